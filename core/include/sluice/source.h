// The interface a source plugin implements.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace sluice {

// Where a source puts its records. emit() blocks while the producer queue is
// full (backpressure) and throws sluice::Error when delivery failed for good.
// It may be called from several threads of one source at once.
class Emitter {
 public:
  virtual ~Emitter() = default;
  // `key` overrides the key the pipeline's `key` option would extract.
  virtual void emit(std::string_view value, std::optional<std::string_view> key = std::nullopt) = 0;
  // The same with Kafka headers (name, value; a value of nullptr data is
  // null). Transforms on the source replace them with what scripts set. The
  // default, for an emitter that cannot carry headers, drops them.
  virtual void emit_with_headers(std::string_view value, std::optional<std::string_view> key,
                                 std::span<const std::pair<std::string_view, std::string_view>> headers) {
    (void)headers;
    emit(value, key);
  }
  // True once the pipeline is shutting down; run() should return soon after.
  virtual bool stopping() const = 0;
  // Sleeps until `seconds` have passed or the pipeline stops; false if stopping.
  virtual bool wait_for(double seconds) = 0;
  // Blocks until Kafka has acknowledged every record emitted so far (by any
  // source of the pipeline), so that a source may then record its progress
  // (a state file) knowing none of them can be lost. With the embedded
  // broker, whose log ends with the process, it also waits until this
  // process's sinks of the source's topic have stored them. False when the pipeline
  // stopped before that could be known (after a grace period); throws
  // sluice::Error when a delivery failed for good. The default, for an
  // emitter that cannot tell, is false.
  virtual bool wait_delivered() { return false; }
};

class Source {
 public:
  virtual ~Source() = default;
  // Produces records until done (a finite source) or until emitter.stopping().
  virtual void run(Emitter& emitter) = 0;
  // A finite source ends by itself; when all sources are finite, the sinks of
  // a single-process pipeline end once they have read everything produced.
  virtual bool finite() const { return false; }
};

}  // namespace sluice
