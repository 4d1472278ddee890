// The sink side of Lua transforms: turns a consumed batch into what the sink
// writes. Passing records become messages viewing the transformed JSON (held
// here), or the consumed record's own value when a script passed the record
// on unchanged; a split becomes several messages with the same partition and
// offset, a drop nothing. A reject becomes one message with the original value and
// `reject_reason` set when the sink has a dead letter; otherwise it is
// counted and logged, never written.
#pragma once

#include <atomic>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/pipeline.h"
#include "observe/telemetry.h"
#include "run/record_batch.h"
#include "run/reject_log.h"
#include "sluice/message.h"
#include "transform/transform_chain.h"

namespace sluice {

class SinkTransforms {
 public:
  // Rejects that are not written anywhere are reported to `telemetry` here;
  // those a dead letter takes are reported once stored (the sink runner's).
  SinkTransforms(const StepConfig& step, bool sink_has_dead_letter, StepTelemetry& telemetry);

  // Runs the chain once per consumed record, as records come into the batch
  // being filled: on records [from, consumed.size()), whose Kafka messages
  // `messages` still holds (one per record, in order), so that a script's
  // meta.headers is parsed from its message only when read (parsing them
  // costs about 1,300 instructions and an allocation per message, with no
  // header at all). `from` 0 starts a new batch. `views` and
  // `reject_classes` grow; `reject_classes` says which views are rejects,
  // and the class of their reason.
  void run(const RecordBatch& consumed, size_t from, std::span<const KafkaMessage> messages,
           const std::string& topic, std::vector<Message>& views,
           std::vector<std::pair<size_t, const char*>>& reject_classes);
  // Once the batch is whole: points its views into what the chain made.
  // They point into the consumed batch or into what this made of it, which
  // stays valid until the batch after next starts, so that one batch can be
  // written while the next is transformed.
  void finish(std::vector<Message>& views);

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  // A view whose strings point into Made's buffers, filled in once those no
  // longer grow.
  struct Pending {
    size_t view;
    TransformOutcome outcome;
    size_t output;                     // pass: index in Made::outputs
    size_t reason_begin, reason_end;   // reject: range of Made::reasons
  };

  // What run() made of one batch. Two, used in turn.
  struct Made {
    std::string arena, reasons;
    std::vector<TransformOutput> outputs;
    std::vector<Pending> pending;
  };

  TransformChain chain_;
  bool dead_letter_;
  RejectLog reject_log_;
  StepTelemetry& telemetry_;
  Made made_[2];
  size_t turn_ = 0;
  std::atomic<uint64_t> dropped_{0}, rejected_{0};
};

}  // namespace sluice
