#include "kafka/fetch_waker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "kafka/consumer.h"
#include "kafka/embedded_broker.h"
#include "kafka/producer.h"

namespace sluice {
namespace {

TEST(QueueFill, WakesOnceTheQueueNearItsCapIsDrainedToHalf) {
  QueueFill fill(100'000, 1'000'000);  // 100 kB; messages of 100 bytes: 1000 fill it
  EXPECT_FALSE(fill.after_poll(600, 100, 10'000));  // 700 before: never near the cap
  EXPECT_FALSE(fill.after_poll(400, 100, 10'000));  // not armed, so no wake however low
  EXPECT_FALSE(fill.after_poll(700, 100, 10'000));  // 800 before: armed, still above half
  EXPECT_TRUE(fill.after_poll(500, 100, 10'000));   // half: wake
  EXPECT_FALSE(fill.after_poll(100, 100, 10'000));  // once per filling
}

TEST(QueueFill, APollThatTakesAFullQueueWakesAtOnce) {
  QueueFill fill(100'000, 1'000'000);
  EXPECT_TRUE(fill.after_poll(0, 1000, 100'000));
}

TEST(QueueFill, TheMessageCapCountsToo) {
  QueueFill fill(1'000'000'000, 1000);  // bytes never bind
  EXPECT_FALSE(fill.after_poll(900, 10, 100));
  EXPECT_TRUE(fill.after_poll(400, 500, 5000));
}

struct StartAtZero : RebalanceListener {
  std::map<int32_t, int64_t> on_assign(const std::vector<int32_t>&, const std::map<int32_t, int64_t>&) override {
    return {};
  }
  void on_revoke(const std::vector<int32_t>&) override {}
};

KafkaSettings test_kafka(const std::string& bootstrap) {
  KafkaSettings k;
  k.bootstrap_servers = bootstrap;
  k.security_protocol = "plaintext";
  k.compression = "none";
  k.client_id = "sluice-test";
  return k;
}

// librdkafka 2.0 stops fetching while its queue is at its cap and, left
// alone, fetches again only when its broker thread next wakes: up to a second
// after the queue was drained. Here every fetch (one record batch of 40 kB)
// fills the 16 kB queue, so reading 100 batches would wait ~0.5 s each
// (measured: past 60 s) without the wake-ups; with them, 0.01 s in all. The
// bound is far above that and far below the stalls.
TEST(FetchWaker, FetchingResumesAsSoonAsAFullQueueIsDrained) {
  EmbeddedBroker broker;
  broker.create_topic("t", 1);
  constexpr int kBatches = 100, kPerBatch = 40, kRecords = kBatches * kPerBatch;
  {
    KafkaSettings k = test_kafka(broker.bootstrap_servers());
    k.librdkafka["batch.num.messages"] = std::to_string(kPerBatch);
    k.librdkafka["linger.ms"] = "1";
    Producer producer(k, broker.bootstrap_servers());
    std::atomic<bool> stopping{false};
    const std::string value(1000, 'x');
    for (int i = 0; i < kRecords; ++i) producer.produce(producer.topic("t"), std::nullopt, value, stopping);
    ASSERT_TRUE(producer.flush(std::chrono::seconds(30)));
  }
  KafkaSettings k = test_kafka(broker.bootstrap_servers());
  k.librdkafka["queued.max.messages.kbytes"] = "16";
  ConsumerSettings settings;
  settings.group = "waker-test";
  settings.topic = "t";
  settings.fresh_log = true;
  settings.assign_directly = true;
  StartAtZero listener;
  Consumer consumer(k, broker.bootstrap_servers(), settings, listener);

  const auto start = std::chrono::steady_clock::now();
  const auto give_up = start + std::chrono::seconds(60);
  int64_t read = 0;
  std::vector<KafkaMessage> out;
  while (read < kRecords && std::chrono::steady_clock::now() < give_up) {
    consumer.poll(out, kPerBatch, std::chrono::milliseconds(100));  // returns once a batch is in
    read += static_cast<int64_t>(out.size());
    out.clear();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(read, kRecords);
  EXPECT_GT(consumer.fetch_wakeups(), 0u);
  EXPECT_LT(seconds, 15.0) << kBatches << " full queues took " << seconds << " s to read, with "
                           << consumer.fetch_wakeups() << " wake-ups";
}

}  // namespace
}  // namespace sluice
