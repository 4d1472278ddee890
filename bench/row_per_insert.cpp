// The hand-made baseline: a consumer that INSERTs each record with its own
// commit, the way quick Kafka-to-PostgreSQL scripts are usually written.
// Usage: row_per_insert BOOTSTRAP TOPIC CONNINFO TABLE COUNT  -> prints rows/s
// The time runs from the first record received (after the group join).
#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: row_per_insert BOOTSTRAP TOPIC CONNINFO TABLE COUNT\n");
    return 2;
  }
  const long want = std::stol(argv[5]);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", "row-per-insert-bench", err, sizeof err);
  rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof err);
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> rk(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err), rd_kafka_destroy);
  if (!rk) return std::fprintf(stderr, "%s\n", err), 1;
  rd_kafka_poll_set_consumer(rk.get());
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, argv[2], RD_KAFKA_PARTITION_UA);
  rd_kafka_subscribe(rk.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);

  std::unique_ptr<PGconn, decltype(&PQfinish)> pg(PQconnectdb(argv[3]), PQfinish);
  if (PQstatus(pg.get()) != CONNECTION_OK) return std::fprintf(stderr, "%s", PQerrorMessage(pg.get())), 1;
  const std::string sql =
      std::string("INSERT INTO ") + argv[4] + " (seq, user_id, ts, lat, lon) VALUES ($1, $2, $3, $4, $5)";
  simdjson::dom::parser parser;
  long done = 0;
  std::chrono::steady_clock::time_point start;
  while (done < want) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk.get(), 1000);
    if (!m) continue;
    if (m->err) {
      rd_kafka_message_destroy(m);
      continue;
    }
    if (done == 0) start = std::chrono::steady_clock::now();  // after the group join
    simdjson::dom::element doc;
    if (!parser.parse(static_cast<const char*>(m->payload), m->len).get(doc)) {
      std::string v[5];
      const char* keys[] = {"seq", "user_id", "ts", "lat", "lon"};
      for (int i = 0; i < 5; ++i) v[i] = simdjson::to_string(doc[keys[i]]);
      const char* params[] = {v[0].c_str(), v[1].c_str(), v[2].c_str(), v[3].c_str(), v[4].c_str()};
      PQclear(PQexecParams(pg.get(), sql.c_str(), 5, nullptr, params, nullptr, nullptr, 0));  // autocommit: one commit per row
    }
    rd_kafka_message_destroy(m);
    ++done;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rd_kafka_consumer_close(rk.get());
  std::printf("%.0f\n", static_cast<double>(done) / seconds);
  return 0;
}
