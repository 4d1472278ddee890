// The C API of sluice.h through libsluice.so, as a host program uses it:
// host source -> embedded broker -> host sink, in this process.
#include <dirent.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "sluice.h"

namespace {

const char* kPipeline = R"(
name = "embed_test"
[kafka]
bootstrap_servers = "embedded"
[[sources]]
name = "in"
type = "host"
topic = "t"
queue_records = 8
[[sinks]]
name = "out"
type = "host"
topic = "t"
)";

struct Received {
  std::mutex mutex;
  std::vector<std::string> values;
  std::set<int64_t> offsets;
};

sluice_error* collect(void* user, const sluice_batch* batch, sluice_write_result*) {
  auto* r = static_cast<Received*>(user);
  std::lock_guard lock(r->mutex);
  for (size_t i = 0; i < sluice_batch_count(batch); ++i) {
    const sluice_message* m = sluice_batch_message(batch, i);
    size_t len = 0;
    const char* v = sluice_message_value(m, &len);
    r->values.emplace_back(v, len);
    r->offsets.insert(sluice_message_offset(m));
  }
  return nullptr;
}

// Points into `value`: it must outlive the push.
sluice_record record_of(std::string_view value) {
  sluice_record r{};
  r.struct_size = sizeof r;
  r.value = value.data();
  r.value_len = value.size();
  return r;
}

size_t threads_of_process() {
  size_t n = 0;
  DIR* d = opendir("/proc/self/task");
  while (dirent* e = readdir(d))
    if (e->d_name[0] != '.') ++n;
  closedir(d);
  return n;
}

struct Free {
  void operator()(sluice_pipeline* p) const { sluice_pipeline_free(p); }
  void operator()(sluice_error* e) const { sluice_error_free(e); }
};
using Pipeline = std::unique_ptr<sluice_pipeline, Free>;
using ErrorPtr = std::unique_ptr<sluice_error, Free>;

Pipeline make(const char* toml = kPipeline) {
  sluice_error* err = nullptr;
  Pipeline p(sluice_pipeline_from_string(toml, "embed_test.toml", nullptr, &err));
  ErrorPtr owned(err);
  EXPECT_TRUE(p) << sluice_error_message(err);
  return p;
}

TEST(CApi, VersionIsTheHeaders) { EXPECT_STREQ(sluice_version(), SLUICE_VERSION_STRING); }

TEST(CApi, RecordsPushedArriveAtTheHostSinkOnceEach) {
  Pipeline p = make();
  Received got;
  ASSERT_EQ(sluice_pipeline_set_sink(p.get(), "out", collect, &got, nullptr), 0);
  ASSERT_EQ(sluice_pipeline_start(p.get(), nullptr), 0);
  constexpr int kRecords = 5000;
  for (int i = 0; i < kRecords; ++i) {
    std::string v = "{\"id\":" + std::to_string(i) + "}";
    sluice_record r = record_of(v);
    ASSERT_EQ(sluice_pipeline_push(p.get(), "in", &r, -1, nullptr), 0) << i;
  }
  ASSERT_EQ(sluice_pipeline_close_source(p.get(), "in", nullptr), 0);
  sluice_error* err = nullptr;
  ASSERT_EQ(sluice_pipeline_wait(p.get(), -1, &err), 0) << sluice_error_message(err);
  ASSERT_EQ(got.values.size(), size_t(kRecords));
  for (int i = 0; i < kRecords; ++i) EXPECT_EQ(got.values[i], "{\"id\":" + std::to_string(i) + "}");
  EXPECT_EQ(got.offsets.size(), size_t(kRecords));

  sluice_step_counters in, out;
  sluice_step_counters_init(&in);
  sluice_step_counters_init(&out);
  ASSERT_EQ(sluice_pipeline_counters(p.get(), "in", &in, nullptr), 0);
  ASSERT_EQ(sluice_pipeline_counters(p.get(), "out", &out, nullptr), 0);
  EXPECT_EQ(in.records_in, uint64_t(kRecords));
  EXPECT_EQ(in.records_out, uint64_t(kRecords));
  EXPECT_EQ(out.records_out, uint64_t(kRecords));
  EXPECT_EQ(out.state, SLUICE_STEP_STOPPED);
  char* metrics = sluice_pipeline_metrics(p.get());
  ASSERT_NE(metrics, nullptr);
  EXPECT_NE(std::strstr(metrics, "step=\"out\""), nullptr) << metrics;
  sluice_free(metrics);
  // After the close, a push is refused as stopped.
  sluice_record r = record_of("{}");
  EXPECT_EQ(sluice_pipeline_push(p.get(), "in", &r, 0, nullptr), SLUICE_ERROR_STOPPED);
}

// A sink that cannot keep up fills the source's queue: a push that may not
// wait says so instead of growing memory.
TEST(CApi, AFullQueueSaysTryAgain) {
  Pipeline p = make();
  std::atomic<bool> release{false};
  struct Slow {
    std::atomic<bool>* release;
    std::atomic<int> batches{0};
  } slow{&release};
  auto hold = [](void* user, const sluice_batch*, sluice_write_result*) -> sluice_error* {
    auto* s = static_cast<Slow*>(user);
    ++s->batches;
    while (!s->release->load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return nullptr;
  };
  ASSERT_EQ(sluice_pipeline_set_sink(p.get(), "out", hold, &slow, nullptr), 0);
  ASSERT_EQ(sluice_pipeline_start(p.get(), nullptr), 0);
  // The producer and Kafka take a lot; the queue of 8 fills once the source's
  // thread blocks on a full producer queue, or sooner: push until refused.
  int code = 0;
  std::string big(100000, 'x');
  for (int i = 0; i < 1000000 && code == 0; ++i) {
    std::string v = "{\"pad\":\"" + big + "\"}";
    sluice_record r = record_of(v);
    code = sluice_pipeline_push(p.get(), "in", &r, 0, nullptr);
  }
  EXPECT_EQ(code, SLUICE_ERROR_AGAIN);
  release = true;
  sluice_pipeline_stop(p.get());
  EXPECT_EQ(sluice_pipeline_wait(p.get(), -1, nullptr), 0);
}

// The callback's per-record outcome: a rejected record is counted as such,
// a retriable failure at a record gives the batch again from it.
TEST(CApi, TheSinkCallbackRejectsOneRecordAndRetriesFromAnother) {
  Pipeline p = make();
  struct State {
    std::mutex mutex;
    std::vector<std::string> stored;
    bool failed_once = false;
  } state;
  auto write = [](void* user, const sluice_batch* batch, sluice_write_result* result) -> sluice_error* {
    auto* s = static_cast<State*>(user);
    std::lock_guard lock(s->mutex);
    for (size_t i = 0; i < sluice_batch_count(batch); ++i) {
      size_t len = 0;
      const char* v = sluice_message_value(sluice_batch_message(batch, i), &len);
      std::string value(v, len);
      if (value == "{\"id\":3}") {
        sluice_record_failed(result, i, 0, "id 3 is not wanted");
        continue;
      }
      if (value == "{\"id\":7}" && !s->failed_once) {
        s->failed_once = true;
        sluice_record_failed(result, i, 1, "not now");
        return nullptr;
      }
      s->stored.push_back(value);
    }
    return nullptr;
  };
  ASSERT_EQ(sluice_pipeline_set_sink(p.get(), "out", write, &state, nullptr), 0);
  ASSERT_EQ(sluice_pipeline_start(p.get(), nullptr), 0);
  for (int i = 0; i < 10; ++i) {
    std::string v = "{\"id\":" + std::to_string(i) + "}";
    sluice_record r = record_of(v);
    ASSERT_EQ(sluice_pipeline_push(p.get(), "in", &r, -1, nullptr), 0);
  }
  ASSERT_EQ(sluice_pipeline_close_source(p.get(), "in", nullptr), 0);
  ASSERT_EQ(sluice_pipeline_wait(p.get(), -1, nullptr), 0);
  std::vector<std::string> want;
  for (int i = 0; i < 10; ++i)
    if (i != 3) want.push_back("{\"id\":" + std::to_string(i) + "}");
  EXPECT_EQ(state.stored, want);
  EXPECT_TRUE(state.failed_once);
  sluice_step_counters out;
  sluice_step_counters_init(&out);
  ASSERT_EQ(sluice_pipeline_counters(p.get(), "out", &out, nullptr), 0);
  EXPECT_EQ(out.rejected, 1u);
  EXPECT_EQ(out.records_out, 9u);
}

TEST(CApi, AMistakeIsAConfigErrorWithItsPlace) {
  sluice_error* err = nullptr;
  sluice_pipeline* p = sluice_pipeline_from_string("name = \"x\"\n[[sinks]]\nname = \"s\"\ntype = \"nosuch\"\n",
                                                   "bad.toml", nullptr, &err);
  ErrorPtr owned(err);
  EXPECT_EQ(p, nullptr);
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(sluice_error_get_code(err), SLUICE_ERROR_CONFIG);
  EXPECT_TRUE(sluice_error_fatal(err));
  EXPECT_NE(std::strstr(sluice_error_message(err), "bad.toml:"), nullptr) << sluice_error_message(err);
  ASSERT_GE(sluice_error_diagnostic_count(err), 1u);
  bool found = false;
  for (size_t i = 0; i < sluice_error_diagnostic_count(err); ++i) {
    int is_error = 0, line = 0, column = 0;
    const char *file = nullptr, *message = nullptr;
    ASSERT_EQ(sluice_error_diagnostic(err, i, &is_error, &file, &line, &column, &message), 1);
    if (is_error && std::strstr(message, "nosuch")) {
      found = true;
      EXPECT_STREQ(file, "bad.toml");
      EXPECT_EQ(line, 4);
      EXPECT_GT(column, 0);
    }
  }
  EXPECT_TRUE(found) << sluice_error_message(err);
  EXPECT_EQ(sluice_error_diagnostic(err, 99, nullptr, nullptr, nullptr, nullptr, nullptr), 0);
}

TEST(CApi, CallsThatDoNotFitAreUsageErrors) {
  Pipeline p = make();
  sluice_record r = record_of("{}");
  EXPECT_EQ(sluice_pipeline_push(p.get(), "in", &r, 0, nullptr), SLUICE_ERROR_USAGE);  // not started
  EXPECT_EQ(sluice_pipeline_set_sink(p.get(), "nosuch", collect, nullptr, nullptr), SLUICE_ERROR_USAGE);
  EXPECT_EQ(sluice_pipeline_wait(p.get(), 0, nullptr), SLUICE_ERROR_USAGE);
  sluice_step_counters c;
  sluice_step_counters_init(&c);
  EXPECT_EQ(sluice_pipeline_counters(p.get(), "in", &c, nullptr), SLUICE_ERROR_USAGE);
  EXPECT_EQ(sluice_pipeline_metrics(p.get()), nullptr);
  // A host sink without its callback cannot start.
  sluice_error* err = nullptr;
  EXPECT_EQ(sluice_pipeline_start(p.get(), &err), SLUICE_ERROR_CONFIG);
  ErrorPtr owned(err);
  EXPECT_NE(std::strstr(sluice_error_message(err), "sluice_pipeline_set_sink"), nullptr) << sluice_error_message(err);
  EXPECT_EQ(sluice_pipeline_start(p.get(), nullptr), SLUICE_ERROR_USAGE);  // once only
  EXPECT_EQ(sluice_pipeline_push(nullptr, "in", &r, 0, nullptr), SLUICE_ERROR_USAGE);
  sluice_pipeline_free(nullptr);
  sluice_error_free(nullptr);
}

TEST(CApi, WaitWithATimeoutSaysItStillRuns) {
  Pipeline p = make();
  Received got;
  ASSERT_EQ(sluice_pipeline_set_sink(p.get(), "out", collect, &got, nullptr), 0);
  ASSERT_EQ(sluice_pipeline_start(p.get(), nullptr), 0);
  EXPECT_EQ(sluice_pipeline_state_of(p.get()), SLUICE_PIPELINE_RUNNING);
  EXPECT_EQ(sluice_pipeline_wait(p.get(), 10, nullptr), SLUICE_ERROR_AGAIN);
  sluice_pipeline_stop(p.get());
  EXPECT_EQ(sluice_pipeline_wait(p.get(), -1, nullptr), 0);
  EXPECT_EQ(sluice_pipeline_state_of(p.get()), SLUICE_PIPELINE_ENDED);
}

TEST(CApi, TheLogCallbackGetsTheLines) {
  struct Lines {
    std::mutex mutex;
    std::vector<std::string> lines;
  } lines;
  sluice_set_log_callback(
      [](void* user, int, const char* message) {
        auto* l = static_cast<Lines*>(user);
        std::lock_guard lock(l->mutex);
        l->lines.emplace_back(message);
      },
      &lines);
  {
    Pipeline p = make();
    Received got;
    ASSERT_EQ(sluice_pipeline_set_sink(p.get(), "out", collect, &got, nullptr), 0);
    ASSERT_EQ(sluice_pipeline_start(p.get(), nullptr), 0);
  }
  sluice_set_log_callback(nullptr, nullptr);
  bool starting = false;
  for (const auto& l : lines.lines) starting |= l.find("pipeline `embed_test` starting") != std::string::npos;
  EXPECT_TRUE(starting) << lines.lines.size() << " lines";
}

// What the issue asks of the API under ASan: many cycles in one process,
// nothing leaked (LeakSanitizer reports at exit), no thread left behind.
TEST(CApi, CreateStartStopManyTimesLeavesNoThread) {
  size_t before = threads_of_process();
  for (int i = 0; i < 100; ++i) {
    Pipeline p = make();
    Received got;
    ASSERT_EQ(sluice_pipeline_set_sink(p.get(), "out", collect, &got, nullptr), 0);
    ASSERT_EQ(sluice_pipeline_start(p.get(), nullptr), 0) << "cycle " << i;
    std::string v = "{\"cycle\":" + std::to_string(i) + "}";
    sluice_record r = record_of(v);
    ASSERT_EQ(sluice_pipeline_push(p.get(), "in", &r, -1, nullptr), 0);
    sluice_pipeline_stop(p.get());
    ASSERT_EQ(sluice_pipeline_wait(p.get(), -1, nullptr), 0) << "cycle " << i;
  }
  EXPECT_EQ(threads_of_process(), before);
}

}  // namespace
