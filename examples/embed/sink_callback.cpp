// sink_callback: a C++ program that embeds sluice and receives a pipeline's
// records in a host sink callback. The built-in random_routes source makes
// N records (default 20000) into the embedded broker; the sink `receiver`
// (type "host") hands them to this program, which counts them, checks that
// the offsets rise within each partition and that every `seq` 0..N-1 came.
//
//   ./sink_callback [N]
//
// Exit 0 when all N records came, in order per partition; 1 otherwise.
#include <sluice.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

struct PipelineFree {
  void operator()(sluice_pipeline* p) const { sluice_pipeline_free(p); }
};
struct ErrorFree {
  void operator()(sluice_error* e) const { sluice_error_free(e); }
};
using Pipeline = std::unique_ptr<sluice_pipeline, PipelineFree>;
using Error = std::unique_ptr<sluice_error, ErrorFree>;

// Touched only by the sink's thread while the pipeline runs (the callback
// is called one batch at a time), read by main after the run ended.
struct Received {
  uint64_t records = 0;
  uint64_t batches = 0;
  uint64_t out_of_order = 0;
  std::map<int32_t, int64_t> last_offset;  // per partition
  std::vector<bool> seen;                  // by seq
  uint64_t duplicates = 0;
  uint64_t unexpected = 0;  // a value without a seq in range
};

// The `seq` of a random_routes record ({"seq":0,"user_id":17,...}).
bool seq_of(const char* value, size_t len, uint64_t* seq) {
  static const char kField[] = "\"seq\":";
  std::string text(value, len);
  size_t at = text.find(kField);
  if (at == std::string::npos) return false;
  char* end = nullptr;
  *seq = std::strtoull(text.c_str() + at + sizeof kField - 1, &end, 10);
  return end != text.c_str() + at + sizeof kField - 1;
}

// Runs on the sink's thread. No exception may leave it: it is called from C.
sluice_error* on_batch(void* user, const sluice_batch* batch, sluice_write_result*) noexcept {
  try {
    auto& got = *static_cast<Received*>(user);
    ++got.batches;
    for (size_t i = 0, n = sluice_batch_count(batch); i < n; ++i) {
      const sluice_message* m = sluice_batch_message(batch, i);
      int32_t partition = sluice_message_partition(m);
      int64_t offset = sluice_message_offset(m);
      auto [last, fresh] = got.last_offset.try_emplace(partition, offset);
      if (!fresh) {
        if (offset <= last->second) ++got.out_of_order;
        last->second = offset;
      }
      size_t len = 0;
      const char* value = sluice_message_value(m, &len);
      uint64_t seq = 0;
      if (!value || !seq_of(value, len, &seq) || seq >= got.seen.size()) {
        ++got.unexpected;
      } else if (got.seen[seq]) {
        ++got.duplicates;
      } else {
        got.seen[seq] = true;
      }
      ++got.records;
    }
    return nullptr;  // stored: sluice commits the batch's offsets
  } catch (const std::exception& e) {
    return sluice_error_new(SLUICE_ERROR_FATAL, e.what());
  } catch (...) {
    return sluice_error_new(SLUICE_ERROR_FATAL, "sink_callback: unknown exception");
  }
}

std::string pipeline_toml(uint64_t n) {
  return "name = \"sink_callback\"\n"
         "[kafka]\nbootstrap_servers = \"embedded\"\n"
         "[http]\nenabled = false\n"
         "[[sources]]\nname = \"generator\"\ntype = \"random_routes\"\ntopic = \"routes\"\n"
         "key = \"user_id\"\npartitions = 4\ncount = " +
         std::to_string(n) +
         "\n"
         "[[sinks]]\nname = \"receiver\"\ntype = \"host\"\ntopic = \"routes\"\n";
}

int report(const char* what, sluice_error* raw) {
  Error err(raw);
  std::fprintf(stderr, "sink_callback: %s: %s\n", what, sluice_error_message(err.get()));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20000;
  if (argc > 2 || n == 0) {
    std::fprintf(stderr, "usage: %s [N > 0]\n", argv[0]);
    return 2;
  }
  Received got;
  got.seen.assign(n, false);

  sluice_error* err = nullptr;
  std::string toml = pipeline_toml(n);
  Pipeline p(sluice_pipeline_from_string(toml.c_str(), "sink_callback", nullptr, &err));
  if (!p) return report("load", err);
  if (sluice_pipeline_set_sink(p.get(), "receiver", on_batch, &got, &err) != 0) return report("set sink", err);
  if (sluice_pipeline_start(p.get(), &err) != 0) return report("start", err);
  // random_routes ends after `count` records; the sink ends once it has
  // had them all, and the run ends.
  if (sluice_pipeline_wait(p.get(), -1, &err) != 0) return report("run", err);

  uint64_t missing = 0;
  for (bool s : got.seen) missing += s ? 0 : 1;
  bool ok = got.records == n && missing == 0 && got.duplicates == 0 && got.unexpected == 0 && got.out_of_order == 0;
  std::printf("received %" PRIu64 " records in %" PRIu64 " batches from %zu partitions, expected %" PRIu64
              "; missing %" PRIu64 ", duplicates %" PRIu64 ", unexpected %" PRIu64
              ", offsets out of order %" PRIu64 ": %s\n",
              got.records, got.batches, got.last_offset.size(), n, missing, got.duplicates, got.unexpected,
              got.out_of_order, ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
