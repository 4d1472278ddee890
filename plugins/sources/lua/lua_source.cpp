// Source `lua`: its option table (the one place each option is written) and
// the script's check for `sluice check`; the work is in lua_script_source.cpp.
#include <filesystem>

#include "lua_script_source.h"
#include "sluice/bounded_file.h"
#include "sluice/plugin_info.h"

using lua_source::LuaSourceConfig;

namespace {

// The script must load (compile, run its top level) and define poll or run:
// `check` and `run` refuse the same, at file:line of the script.
sluice::OptionCheck check_script_option(const std::string& path, const std::string& pipeline_dir) {
  const std::string resolved = lua_source::resolve(path, pipeline_dir);
  if (std::string problem = sluice::bounded_file_problem(resolved, sluice::kMaxScriptFileBytes); !problem.empty())
    return {problem, {}, {}};
  return {lua_source::check_script(resolved, resolved, std::filesystem::path(resolved).parent_path().string()), {}, {}};
}

sluice::OptionCheck check_ca_file(const std::string& path, const std::string& pipeline_dir) {
  return {sluice::bounded_file_problem(lua_source::resolve(path, pipeline_dir), sluice::kMaxListFileBytes), {}, {}};
}

}  // namespace

sluice::PluginInfo sluice_builtin_lua() {
  static const auto options = sluice::Options<LuaSourceConfig>()
    .string("script", &LuaSourceConfig::script,
            "Lua script (relative to the pipeline file) defining poll(ctx), called every interval, or run(ctx), "
            "called once and expected to loop until ctx.stopping()")
      .required().validate(check_script_option)
    .duration("interval", &LuaSourceConfig::interval,
              "time between the starts of two poll() calls (run(): the pause before calling it again if it returns); "
              "at least 100ms, so that a failing script does not spin and flood the log")
      .def("60s").range(100, 31'536'000'000)
    .string("state_dir", &LuaSourceConfig::state_dir,
            "directory of NAME.state.json (NAME: the source's), which keeps ctx.state; default: $STATE_DIRECTORY, "
            "else $XDG_STATE_HOME/sluice/PIPELINE, else ~/.local/state/sluice/PIPELINE; created with mode 0700")
    .duration("http_timeout", &LuaSourceConfig::http_timeout,
              "longest a sluice.http call may take, unless its opts.timeout says otherwise")
      .def("30s").range(1, 86'400'000)
    .size("http_max_bytes", &LuaSourceConfig::http_max_bytes,
          "largest response body sluice.http reads; a larger one is the error (nil, err) of that call")
      .def("16MB").range(1, 1 << 30)
    .string("ca_file", &LuaSourceConfig::ca_file,
            "CA certificates (PEM) sluice.http verifies TLS with, instead of the system's (TLS is always verified)")
      .validate(check_ca_file)
    .integer("instructions", &LuaSourceConfig::instructions,
             "Lua instructions one poll() call may run (run(): between two ctx.sleep/ctx.checkpoint calls)")
      .def(100'000'000).range(1000, 1e12)
    .size("memory", &LuaSourceConfig::memory, "memory the script's Lua state may hold").def("64MB")
      .range(1 << 20, 1LL << 34)
    .string_map("params", &LuaSourceConfig::params,
                "values the script reads as ctx.params.NAME (strings; numbers and booleans as their text)")
    .string_map("secrets", &LuaSourceConfig::secrets,
                "like params, as ctx.secrets.NAME, but masked wherever sluice prints or logs text")
      .secret();
  return sluice::source_plugin<lua_source::LuaScriptSource>(
      "lua", "runs a Lua script that polls (e.g. an HTTP API with sluice.http) and emits records", options);
}
