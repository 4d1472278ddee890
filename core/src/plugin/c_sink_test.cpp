// CSink's side of the per-record results and the offset hooks, with a
// plugin made of C-callable functions in this file.
#include "plugin/c_sink.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

const sluice_host_api* host = host_api();

// What the test plugin saw and does; one test at a time uses it.
struct Seen {
  std::vector<std::string> values;
  std::vector<std::pair<int32_t, int64_t>> next;
  std::string fail_once_on, reject;
  bool failed = false;
  int assign_failures = 0;  // retriable failures of sink_assign still to come
  std::vector<int32_t> revoked;
} seen;

sluice_error* create(const sluice_config*, void** instance) {
  *instance = &seen;
  return nullptr;
}
void destroy(void*) {}

sluice_error* write(void*, const sluice_batch* batch, sluice_write_result* result) {
  for (size_t i = 0; i < host->batch_count(batch); ++i) {
    size_t len = 0;
    const char* v = host->message_value(host->batch_message(batch, i), &len);
    std::string value(v, len);
    if (value == seen.reject) {
      host->record_failed(result, i, 0, "not this one");
      continue;
    }
    if (value == seen.fail_once_on && !seen.failed) {
      seen.failed = true;
      host->record_failed(result, i, 1, "down for now");
      return nullptr;
    }
    seen.values.push_back(value);
  }
  seen.next.clear();
  for (size_t i = 0; i < host->batch_partition_count(batch); ++i) {
    int32_t p;
    int64_t next;
    host->batch_partition_at(batch, i, &p, &next);
    seen.next.emplace_back(p, next);
  }
  return nullptr;
}

sluice_error* assign(void*, const char*, const int32_t* partitions, size_t count, const sluice_offsets* committed,
                     sluice_offsets* next) {
  if (seen.assign_failures > 0) {
    --seen.assign_failures;
    return host->error_new(SLUICE_ERROR_RETRIABLE, "store unreachable");
  }
  for (size_t i = 0; i < count; ++i) {
    int64_t kafka = -1;
    if (host->offsets_get(committed, partitions[i], &kafka)) host->offsets_set(next, partitions[i], kafka + 100);
  }
  return nullptr;
}

void revoke(void*, const char*, const int32_t* partitions, size_t count) {
  seen.revoked.assign(partitions, partitions + count);
}

std::shared_ptr<const CPlugin> plugin(bool stores_offsets) {
  auto p = std::make_shared<CPlugin>();
  p->d.abi_version = SLUICE_ABI_VERSION;
  p->d.struct_size = sizeof p->d;
  p->d.name = "test";
  p->d.kind = SLUICE_PLUGIN_SINK;
  p->d.create = create;
  p->d.destroy = destroy;
  p->d.sink_write = write;
  if (stores_offsets) {
    p->d.sink_assign = assign;
    p->d.sink_revoke = revoke;
  }
  return p;
}

Message message(int64_t offset, std::string_view value) {
  Message m;
  m.topic = "t";
  m.offset = offset;
  m.value = value;
  return m;
}

class CSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { seen = Seen{}; }
};

TEST_F(CSinkTest, ARetriableFailureResumesTheSameBatchAtThatRecord) {
  seen.fail_once_on = "b";
  CSink sink(plugin(false), {}, "s");
  std::vector<Message> batch = {message(0, "a"), message(1, "b"), message(2, "c")};
  try {
    sink.write(batch);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(e.retriable());
    EXPECT_STREQ(e.what(), "s: record at partition 0, offset 1: down for now");
  }
  sink.write(batch);
  EXPECT_EQ(seen.values, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_TRUE(sink.last_write());
  EXPECT_EQ(sink.last_write()->rows, 3u);
  // The next batch, though in the same vector, starts from its beginning.
  sink.write(batch);
  EXPECT_EQ(seen.values.size(), 6u);
}

TEST_F(CSinkTest, RejectsNameTheirIndexInTheBatchAndOffsetsCoverWhatThePluginIsNotGiven) {
  seen.reject = "y";
  CSink sink(plugin(true), {}, "s");
  EXPECT_TRUE(sink.keeps_rejects());
  std::vector<Message> batch = {message(10, "x"), message(11, "r"), message(12, "y"), message(13, "d")};
  batch[1].reject_reason = "a script said no";
  batch[3].dropped = true;
  sink.write(batch);
  EXPECT_EQ(seen.values, (std::vector<std::string>{"x"}));
  EXPECT_EQ(seen.next, (std::vector<std::pair<int32_t, int64_t>>{{0, 14}}));
  auto report = sink.last_write();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->rows, 1u);
  ASSERT_EQ(report->rejects.size(), 2u);
  EXPECT_EQ(report->rejects[0].message, 1u);
  EXPECT_STREQ(report->rejects[0].reason_class, "transform");
  EXPECT_EQ(report->rejects[0].reason, "a script said no");
  EXPECT_EQ(report->rejects[1].message, 2u);
  EXPECT_STREQ(report->rejects[1].reason_class, "plugin");
  EXPECT_EQ(report->rejects[1].reason, "not this one");
}

TEST_F(CSinkTest, AssignReturnsThePluginsOffsetsAndRevokeReachesIt) {
  CSink sink(plugin(true), {}, "s");
  auto start = sink.on_assign("t", {0, 1, 2}, {{0, 5}, {2, 7}});
  EXPECT_EQ(start, (std::map<int32_t, int64_t>{{0, 105}, {2, 107}}));
  sink.on_revoke("t", {1, 2});
  EXPECT_EQ(seen.revoked, (std::vector<int32_t>{1, 2}));
}

TEST_F(CSinkTest, AssignIsRetriedWhileTheStoreIsUnreachable) {
  seen.assign_failures = 2;
  CSink sink(plugin(true), {}, "s");
  EXPECT_EQ(sink.on_assign("t", {0}, {{0, 1}}), (std::map<int32_t, int64_t>{{0, 101}}));
  EXPECT_EQ(seen.assign_failures, 0);
}

TEST_F(CSinkTest, WithoutAssignKafkasOffsetsStand) {
  CSink sink(plugin(false), {}, "s");
  EXPECT_FALSE(sink.keeps_rejects());
  EXPECT_EQ(sink.on_assign("t", {0}, {{0, 5}}), (std::map<int32_t, int64_t>{{0, 5}}));
}

}  // namespace
}  // namespace sluice
