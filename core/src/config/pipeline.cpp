#include "config/pipeline.h"

#include <arpa/inet.h>

#include <filesystem>
#include <map>

#include "config/kafka_check.h"
#include "config/option_validation.h"
#include "config/toml_fwd.h"
#include "plugin/registry.h"
#include "sluice/bounded_file.h"
#include "transform/transform_chain.h"

namespace sluice {

namespace {

const std::vector<std::string> kTopLevelKeys = {"name", "kafka", "http", "sources", "sinks"};

template <class Config>
std::vector<OptionSpec> merged_specs(const Options<Config>& common, const PluginInfo* plugin) {
  std::vector<OptionSpec> specs = common.specs();
  if (plugin) specs.insert(specs.end(), plugin->options.begin(), plugin->options.end());
  return specs;
}

class Loader {
 public:
  Loader(const PluginRegistry& registry, Diagnostics& diagnostics, std::string file)
      : registry_(registry), diags_(diagnostics), file_(std::move(file)) {}

  PipelineConfig load(const toml::table& root) {
    PipelineConfig config;
    config.file = file_;
    for (const auto& [key, node] : root) {
      std::string k(key.str());
      if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), k) != kTopLevelKeys.end()) continue;
      std::string near = nearest_word(k, kTopLevelKeys);
      diags_.error(pos(key.source()), k, "unknown key", near.empty() ? "" : "did you mean `" + near + "`?");
    }
    config.name = std::filesystem::path(file_).stem().string();
    if (const toml::node* name = root.get("name")) {
      if (auto s = name->value_exact<std::string>(); s && !s->empty())
        config.name = *s;
      else
        diags_.error(pos(name->source()), "name", "expected a non-empty string");
    }
    load_kafka(root, config);
    load_http(root, config);
    load_steps(root, PluginKind::source, config);
    load_steps(root, PluginKind::sink, config);
    if (config.sources.empty() && config.sinks.empty())
      diags_.error({file_, 0, 0}, "", "the pipeline has no [[sources]] and no [[sinks]]");
    check_names_and_topics(config);
    return config;
  }

 private:
  std::string dir() const { return std::filesystem::path(file_).parent_path().string(); }

  SourcePos pos(const toml::source_region& region) const {
    SourcePos p = pos_of(region);
    p.file = file_;
    return p;
  }

  void load_kafka(const toml::table& root, PipelineConfig& config) {
    static const toml::table empty;
    const toml::table* kafka = &empty;
    if (const toml::node* node = root.get("kafka")) {
      kafka = node->as_table();
      if (!kafka) {
        diags_.error(pos(node->source()), "kafka", "expected a table ([kafka])");
        return;
      }
    }
    ValidationScope scope{"kafka", &diags_, &config.secret_values, &config.secret_spans, true, dir()};
    size_t problems_before = diags_.items().size();
    OptionValues values = validate_options(kafka_options().specs(), *kafka, scope);
    bool valid = diags_.items().size() == problems_before;
    config.kafka = kafka_options().bind(values);
    config.kafka_values = values;
    for (const auto& [k, v] : config.kafka.librdkafka)
      if (k.find("password") != std::string::npos || k.find("secret") != std::string::npos ||
          k.find("sasl.oauthbearer.config") != std::string::npos)
        config.secret_values.insert(v);
    bool files_ok = true;
    for (const char* key : {"ssl_ca", "ssl_cert", "ssl_key"}) {
      auto it = values.find(key);
      if (it == values.end()) continue;
      std::string problem = bounded_file_problem(std::get<std::string>(it->second), kMaxListFileBytes);
      if (problem.empty()) continue;
      diags_.error(pos(kafka->get(key)->source()), std::string("kafka.") + key, problem);
      files_ok = false;
    }
    if (valid && files_ok) check_kafka_settings(config.kafka, *kafka, file_, diags_);
  }

  void load_http(const toml::table& root, PipelineConfig& config) {
    static const toml::table empty;
    const toml::table* http = &empty;
    if (const toml::node* node = root.get("http")) {
      http = node->as_table();
      if (!http) {
        diags_.error(pos(node->source()), "http", "expected a table ([http])");
        return;
      }
    }
    ValidationScope scope{"http", &diags_, &config.secret_values, &config.secret_spans, true, dir()};
    size_t problems_before = diags_.items().size();
    OptionValues values = validate_options(http_options().specs(), *http, scope);
    config.http = http_options().bind(values);
    config.http_values = values;
    const toml::node* listen = http->get("listen");
    config.http.listen_explicit = listen != nullptr;
    if (diags_.items().size() != problems_before || !config.http.on()) return;
    SourcePos at = listen ? pos(listen->source()) : SourcePos{file_, 0, 0};
    std::string problem = split_listen_address(config.http.listen, config.http.host, config.http.port);
    if (!problem.empty()) {
      diags_.error(at, "http.listen", problem, "write it as \"127.0.0.1:9464\"");
    } else if (!is_loopback_host(config.http.host) && !config.http.allow_remote) {
      diags_.error(at, "http.listen",
                   "`" + config.http.host + "` is not a loopback address, and the endpoints have no "
                   "authentication", "set `allow_remote = true` in [http] to serve other hosts");
    }
  }

  void load_steps(const toml::table& root, PluginKind kind, PipelineConfig& config) {
    const char* section = kind == PluginKind::source ? "sources" : "sinks";
    const toml::node* node = root.get(section);
    if (!node) return;
    const toml::array* arr = node->as_array();
    if (!arr || !arr->is_array_of_tables()) {
      diags_.error(pos(node->source()), section,
                   std::string("expected an array of tables ([[") + section + "]])");
      return;
    }
    for (size_t i = 0; i < arr->size(); ++i) {
      const toml::table& table = *arr->get(i)->as_table();
      std::string path = std::string(section) + "[" + std::to_string(i) + "]";
      auto& steps = kind == PluginKind::source ? config.sources : config.sinks;
      steps.push_back(load_step(table, kind, path, config));
    }
  }

  StepConfig load_step(const toml::table& table, PluginKind kind, const std::string& path,
                       PipelineConfig& config) {
    StepConfig step;
    step.kind = kind;
    step.pos = pos(table.source());
    if (const toml::node* type = table.get("type")) {
      if (auto name = type->value_exact<std::string>()) {
        step.plugin = registry_.find(kind, *name);
        if (!step.plugin) {
          std::string near = nearest_word(*name, registry_.names(kind));
          diags_.error(pos(type->source()), path + ".type",
                       "unknown " + std::string(to_string(kind)) + " type `" + *name + "`",
                       near.empty() ? "`sluice plugins` lists them" : "did you mean `" + near + "`?");
        }
      }
    }
    // Without a known plugin only the common keys can be judged; its own keys
    // would all look unknown, so they are left alone.
    ValidationScope scope{path, &diags_, &config.secret_values, &config.secret_spans, true, dir()};
    std::vector<OptionSpec> specs = kind == PluginKind::source
                                        ? merged_specs(source_common_options(), step.plugin)
                                        : merged_specs(sink_common_options(), step.plugin);
    scope.report_unknown_keys = step.plugin != nullptr;
    const std::vector<OptionTableCheck> no_checks;
    step.values = validate_options(specs, table, scope, step.plugin ? step.plugin->checks : no_checks);
    if (kind == PluginKind::source) step.source_common = source_common_options().bind(step.values);
    else step.sink_common = sink_common_options().bind(step.values);
    const std::string& name = kind == PluginKind::source ? step.source_common.name : step.sink_common.name;
    const std::string& type = kind == PluginKind::source ? step.source_common.type : step.sink_common.type;
    step.name = name.empty() ? type : name;
    step.values["name"] = step.name;
    step.source_common.name = step.sink_common.name = step.name;
    step.topic = kind == PluginKind::source ? step.source_common.topic : step.sink_common.topic;
    load_transforms(table, path, step);
    return step;
  }

  // Scripts are compiled (and their top level run) here, so that `check`
  // and `run` both stop on a script that does not load.
  void load_transforms(const toml::table& table, const std::string& path, StepConfig& step) {
    TransformSettings& t = step.transforms;
    bool source = step.kind == PluginKind::source;
    t.instructions = source ? step.source_common.transform_instructions : step.sink_common.transform_instructions;
    t.memory_bytes = static_cast<size_t>(source ? step.source_common.transform_memory
                                                : step.sink_common.transform_memory);
    if (source) t.dead_letter_topic = step.source_common.dead_letter_topic.value_or("");
    const std::vector<std::string>& scripts = source ? step.source_common.transforms : step.sink_common.transforms;
    if (scripts.empty()) return;
    const toml::node* node = table.get("transforms");
    SourcePos where = node ? pos(node->source()) : step.pos;
    std::filesystem::path base = std::filesystem::path(file_).parent_path();
    for (const auto& script : scripts) {
      std::filesystem::path resolved = std::filesystem::path(script).is_absolute() ? std::filesystem::path(script)
                                                                                   : base / script;
      std::string shown = resolved.lexically_normal().string();
      std::string error = check_script(shown, shown, {t.instructions, t.memory_bytes});
      if (!error.empty()) diags_.error(where, path + ".transforms", error);
      t.scripts.push_back(shown);
    }
  }

  void check_names_and_topics(const PipelineConfig& config) {
    std::map<std::string, const StepConfig*> seen;
    std::set<std::string> produced;
    for (const auto* steps : {&config.sources, &config.sinks})
      for (const auto& step : *steps) {
        if (step.name.empty()) continue;
        auto [it, fresh] = seen.emplace(step.name, &step);
        if (!fresh)
          diags_.error(step.pos, step.name, "duplicate name",
                       "first used at line " + std::to_string(it->second->pos.line) +
                           "; give each source and sink its own `name`");
        if (step.kind == PluginKind::source) produced.insert(step.topic);
      }
    for (const auto& sink : config.sinks)
      if (!sink.topic.empty() && !produced.count(sink.topic))
        diags_.warning(sink.pos, sink.name, "no source in this pipeline produces topic `" +
                                                sink.topic + "` (fine if another process does)");
  }

  const PluginRegistry& registry_;
  Diagnostics& diags_;
  std::string file_;
};

PipelineConfig parse_and_load(const std::string& text, const std::string& origin,
                              const PluginRegistry& registry, Diagnostics& diagnostics) {
  toml::parse_result parsed = toml::parse(text, origin);
  if (!parsed) {
    const toml::parse_error& err = parsed.error();
    SourcePos p = pos_of(err.source());
    p.file = origin;
    diagnostics.error(p, "", std::string(err.description()));
    return {};
  }
  return Loader(registry, diagnostics, origin).load(parsed.table());
}

}  // namespace

std::string split_listen_address(const std::string& listen, std::string& host, int& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size())
    return "`" + listen + "` is not host:port";
  host = listen.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return "`" + listen + "` is not host:port";
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return "`" + listen + "`: write an IPv6 address in brackets, as [::1]:9464";
  }
  const std::string digits = listen.substr(colon + 1);
  if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos)
    return "`" + listen + "`: the port is not a number";
  port = std::stoi(digits);
  if (port > 65535) return "`" + listen + "`: the port is above 65535";
  return "";
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr v4{};  // 127.0.0.0/8, written as an address (a name such as 127.example.com is not)
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

PipelineConfig load_pipeline(const std::string& path, const PluginRegistry& registry,
                             Diagnostics& diagnostics) {
  std::string problem;
  auto text = read_bounded_file(path, kMaxPipelineFileBytes, problem, FileKind::regular_or_pipe);
  if (!text) {
    diagnostics.error({path, 0, 0}, "", "cannot read the pipeline file: " + problem);
    return {};
  }
  return parse_and_load(*text, path, registry, diagnostics);
}

PipelineConfig load_pipeline_text(const std::string& text, const std::string& origin,
                                  const PluginRegistry& registry, Diagnostics& diagnostics) {
  return parse_and_load(text, origin, registry, diagnostics);
}

std::string consumer_group(const PipelineConfig& pipeline, const StepConfig& sink) {
  return sink.sink_common.group.value_or("sluice." + pipeline.name + "." + sink.name);
}

Secrets secrets_of(const PipelineConfig& pipeline) { return {pipeline.secret_values, pipeline.secret_spans}; }

std::string pipeline_dir(const PipelineConfig& pipeline) {
  return std::filesystem::path(pipeline.file).parent_path().string();
}

}  // namespace sluice
