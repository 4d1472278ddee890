// A chain of Lua transforms run on one record at a time: the record is
// parsed once (and read lazily, see lua_record.h), handed from script to
// script, and encoded once at the end, or not at all when it comes out
// unchanged. One chain per worker thread (it owns its Lua state).
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sluice/metrics.h"
#include "transform/lua_json.h"
#include "transform/lua_record.h"
#include "transform/lua_state.h"

namespace sluice {

using HeaderView = std::pair<std::string_view, std::string_view>;

// Meta fields that cost something to read (a Kafka message's headers are
// parsed on first access), asked for only when a script reads them.
class LazyMeta {
 public:
  virtual ~LazyMeta() = default;
  virtual int64_t timestamp_ms() const = 0;
  virtual std::span<const HeaderView> headers() const = 0;
};

// What a script sees as `meta` (read-only).
struct RecordMeta {
  std::string_view topic;
  int32_t partition = -1;
  int64_t offset = -1;
  std::optional<std::string_view> key;
  int64_t timestamp_ms = -1;
  std::span<const HeaderView> headers;
  const LazyMeta* lazy = nullptr;  // when set, timestamp and headers come from it
};

// One record that came out of the chain. The value (and a key a script set)
// are ranges of the `out` buffer passed to run(); views are taken only after
// the buffer stopped growing.
struct TransformOutput {
  size_t value_begin = 0, value_end = 0;
  bool value_is_input = false;   // passed on unchanged: the input's own text
  bool key_set = false;          // a script called meta.set_key
  bool key_null = false;         // ... with nil: no key
  size_t key_begin = 0, key_end = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // set by meta.set_header

  // The record's JSON, given the `out` buffer and the input passed to run().
  std::string_view value(std::string_view out, std::string_view input) const {
    return value_is_input ? input : out.substr(value_begin, value_end - value_begin);
  }
};

enum class TransformOutcome { pass, drop, reject };

class TransformChain {
 public:
  // Loads every script (paths as given; `names` as shown in reasons). Throws
  // std::runtime_error with "file:line: message" when a script fails to load.
  TransformChain(const std::vector<std::string>& paths, TransformLimits limits);
  ~TransformChain();

  // Runs one record. pass: outputs were appended (one, or several for a
  // split), whose values may be `value` itself, so it must outlive them;
  // drop: nothing; reject: nothing, and reason() says why. A record that
  // runs out of a budget is a reject. When a stop request ended a script
  // mid-call, the record is neither: Error(retriable) is thrown, and the
  // record is to be consumed again by the next run.
  TransformOutcome run(std::string_view value, const RecordMeta& meta, std::string& out,
                       std::vector<TransformOutput>& outputs);

  const std::string& reason() const { return reason_; }
  // The class of the last reject's reason (a fixed word for metrics):
  // "transform", "script_error", "budget" or "invalid_json".
  const char* reject_class() const { return reject_class_; }

  // Counts calls, errors and budget rejects per script in `registry` (labels
  // `labels` and script = its file name). Without it nothing is counted.
  void attach_metrics(metrics::Registry& registry, const metrics::Labels& labels);
  size_t size() const { return engine_->scripts.size(); }
  // How many times the Lua state was made again after a call spoiled it.
  int reloads() const { return reloads_; }
  // The most the current Lua state's heap has held.
  size_t memory_peak() const { return engine_->lua.memory_peak(); }

  // Accessed by meta.set_key / meta.set_header while a script runs.
  struct Carried {
    bool key_set = false, key_null = false;
    std::string key;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  Carried& pending() { return pending_; }
  // What `meta` shows while a script runs (null between records).
  const RecordMeta* current_meta() const { return meta_; }
  const Carried* current_carried() const { return current_; }

 private:
  struct Script {
    std::string name;  // file name, as reasons show it
    int function_ref = 0;
  };
  // A Lua state with the scripts loaded; made again (closed first) when a
  // call leaves it untrustworthy (LuaState::spoiled).
  struct Engine {
    Engine(const std::vector<std::string>& paths, TransformLimits limits, TransformChain* chain);
    LuaState lua;
    RecordDecoder decoder;
    std::vector<Script> scripts;
    int meta_ref = 0;
  };
  bool step(size_t i, int record, const Carried& carried, std::string& out,
            std::vector<TransformOutput>& outputs);
  bool emit(int record, const Carried& carried, std::string& out, std::vector<TransformOutput>& outputs);
  bool reject(std::string reason);
  // A call failed: its reason, and what its trip means for the state.
  bool reject_failed_call(size_t script, int status);
  struct ScriptCounters {
    metrics::Counter *calls, *errors, *instructions, *memory;
  };
  std::vector<ScriptCounters> counters_;  // per script, when attached
  void reload();
  // Pushes the decoded record (or nothing, when not JSON: encode_error_ says
  // why); false when building it failed in Lua (decode_status_, error pushed).
  bool decode(std::string_view value);
  static constexpr size_t kDecodeSlack = 64u << 10, kDecodeGrowth = 32;
  int decode_status_ = 0;

  std::vector<std::string> paths_;
  TransformLimits limits_;
  std::unique_ptr<Engine> engine_;
  bool spoiled_ = false, stopped_ = false;
  int reloads_ = 0;
  const RecordMeta* meta_ = nullptr;
  const Carried* current_ = nullptr;
  Carried pending_;
  std::string reason_, encode_error_;
  const char* reject_class_ = "transform";
  // The record as it came in, while run() works on it: when a script hands
  // it on unchanged, its output is the input text instead of an encoding.
  int input_index_ = 0;
};

// Loads one script as a chain would (compile, run its top level, find
// `transform`); "" if it loads, else "shown:line: Lua's message".
std::string check_script(const std::string& path, const std::string& shown, TransformLimits limits);

}  // namespace sluice
