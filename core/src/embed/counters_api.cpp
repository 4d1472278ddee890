// sluice.h: the counters and metrics of a run, live or as it ended.
#include <cstdlib>
#include <cstring>

#include "embed/c_api_support.h"
#include "embed/pipeline_handle.h"
#include "observe/telemetry.h"

namespace sluice::embed {

namespace {

int state_code(StepState s) {
  switch (s) {
    case StepState::starting: return SLUICE_STEP_STARTING;
    case StepState::up: return SLUICE_STEP_UP;
    case StepState::retrying: return SLUICE_STEP_RETRYING;
    case StepState::stopped: return SLUICE_STEP_STOPPED;
    case StepState::failed: return SLUICE_STEP_FAILED;
  }
  return SLUICE_STEP_FAILED;
}

sluice_step_counters counters_of(const StepTelemetry& s) {
  sluice_step_counters c{};
  c.struct_size = sizeof c;
  c.records_in = s.records_in.value();
  c.records_out = s.records_out.value();
  c.rejected = s.rejected();
  c.dropped = s.dropped.value();
  c.bytes_in = s.bytes_in.value();
  c.bytes_out = s.bytes_out.value();
  c.state = state_code(s.state());
  return c;
}

}  // namespace

sluice_step_counters counters_of(const Telemetry& telemetry, const std::string& step, bool* found) {
  for (const auto& s : telemetry.steps())
    if (s->name == step) return *found = true, counters_of(*s);
  *found = false;
  return {};
}

std::map<std::string, sluice_step_counters> all_counters(const Telemetry& telemetry) {
  std::map<std::string, sluice_step_counters> all;
  for (const auto& s : telemetry.steps()) all.emplace(s->name, counters_of(*s));
  return all;
}

}  // namespace sluice::embed

using sluice::embed::fail;

extern "C" {

void sluice_step_counters_init(sluice_step_counters* c) {
  if (!c) return;
  std::memset(c, 0, sizeof *c);
  c->struct_size = sizeof *c;
}

int sluice_pipeline_counters(const sluice_pipeline* p, const char* step, sluice_step_counters* out,
                             sluice_error** error) {
  return sluice::embed::guarded(error, [&] {
    if (!p || !step || !out || out->struct_size < offsetof(sluice_step_counters, records_in))
      return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_counters: NULL argument or struct_size not set");
    sluice_step_counters c{};
    bool found = false;
    {
      std::lock_guard lock(p->mutex);
      if (p->phase == sluice_pipeline::Phase::created)
        return fail(error, SLUICE_ERROR_USAGE, "sluice_pipeline_counters: the pipeline has not started");
      if (p->telemetry) {
        c = sluice::embed::counters_of(*p->telemetry, step, &found);
      } else if (auto it = p->final_counters.find(step); it != p->final_counters.end()) {
        c = it->second;
        found = true;
      }
    }
    if (!found) return fail(error, SLUICE_ERROR_USAGE, std::string("no source or sink `") + step + "` has counters");
    // Only as much as the caller's struct holds: it may be from an older header.
    std::memcpy(reinterpret_cast<char*>(out) + sizeof(size_t), reinterpret_cast<const char*>(&c) + sizeof(size_t),
                std::min(out->struct_size, sizeof c) - sizeof(size_t));
    return 0;
  });
}

char* sluice_pipeline_metrics(const sluice_pipeline* p) {
  try {
    if (!p) return nullptr;
    std::string text;
    {
      std::lock_guard lock(p->mutex);
      if (p->telemetry) text = p->telemetry->registry().render();
      else if (p->phase == sluice_pipeline::Phase::ended) text = p->final_metrics;
      else return nullptr;
    }
    char* out = static_cast<char*>(std::malloc(text.size() + 1));
    if (out) std::memcpy(out, text.c_str(), text.size() + 1);
    return out;
  } catch (...) {
    return nullptr;
  }
}

}  // extern "C"
