#include "embed/host_sink.h"

#include "plugin/c_abi_adapter.h"
#include "plugin/c_sink.h"

namespace sluice::embed {

namespace {

sluice_error* create(const sluice_config* config, void** instance) {
  *instance = config->host_binding;
  return nullptr;
}

void destroy(void*) {}

sluice_error* write(void* instance, const sluice_batch* batch, sluice_write_result* result) {
  auto* binding = static_cast<HostSinkBinding*>(instance);
  return binding->callback(binding->user, batch, result);
}

const sluice_plugin_descriptor kDescriptor = [] {
  sluice_plugin_descriptor d{};
  d.abi_version = SLUICE_ABI_VERSION;
  d.struct_size = sizeof d;
  d.name = "host";
  d.kind = SLUICE_PLUGIN_SINK;
  d.help = "hands each batch to the embedding program's callback (sluice.h: sluice_pipeline_set_sink)";
  d.create = create;
  d.destroy = destroy;
  d.sink_write = write;
  return d;
}();

}  // namespace

PluginInfo host_sink_plugin(std::function<HostSinkBinding*(const std::string& step)> binding_of) {
  PluginInfo info = adapt_c_plugin(kDescriptor, "built-in", nullptr);
  auto plugin = std::make_shared<const CPlugin>(CPlugin{kDescriptor, nullptr});
  info.make_sink = [plugin, binding_of](const OptionValues& values, const PluginContext& ctx) {
    HostSinkBinding* binding = binding_of(ctx.name);
    return std::unique_ptr<Sink>(std::make_unique<CSink>(plugin, values, ctx.name, binding));
  };
  return info;
}

}  // namespace sluice::embed
