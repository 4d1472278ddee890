#include "kafka/embedded_broker.h"

#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <thread>

#include <spdlog/spdlog.h>

#include "kafka/client_config.h"
#include "sluice/error.h"

namespace sluice {

namespace {

// The ports of a "127.0.0.1:port[,...]" list.
std::set<int> ports_of(const std::string& bootstrap) {
  std::set<int> ports;
  size_t at = 0;
  while (at < bootstrap.size()) {
    size_t end = bootstrap.find(',', at);
    if (end == std::string::npos) end = bootstrap.size();
    size_t colon = bootstrap.rfind(':', end - 1);
    if (colon != std::string::npos && colon >= at) ports.insert(std::atoi(bootstrap.c_str() + colon + 1));
    at = end + 1;
  }
  return ports;
}

}  // namespace

// The mock cluster leaves Nagle's algorithm on for its connections (Kafka's
// brokers turn it off): the tail of a fetch response larger than a segment
// then waits for the client's delayed ACK, tens of milliseconds per fetch
// (measured: fetches 23 and 45 ms apart instead of 1-5). Its listening
// sockets are found among this process's descriptors by their ports, and a
// connection accepted from a listener set TCP_NODELAY has it too (Linux).
int disable_nagle_on_listeners(const std::string& bootstrap) {
  const std::set<int> ports = ports_of(bootstrap);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/fd"), closedir);
  if (!dir) return 0;
  int done = 0;
  while (dirent* entry = readdir(dir.get())) {
    const int fd = std::atoi(entry->d_name);
    struct stat st;
    if (fd <= 2 || fd == dirfd(dir.get()) || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    int listening = 0;
    socklen_t len = sizeof listening;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_in addr{};
    len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || addr.sin_family != AF_INET ||
        !ports.count(ntohs(addr.sin_port)))
      continue;
    int on = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0) ++done;
  }
  return done;
}

EmbeddedBroker::EmbeddedBroker(int brokers) {
  KafkaConf conf(rd_kafka_conf_new());
  // The owner handle is never used to produce; silence its own logging.
  set_property(conf.get(), "log_level", "3");
  char err[512];
  owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), err, sizeof err));
  if (!owner_) throw Error(errc::fatal, std::string("embedded broker: ") + err);
  conf.release();  // rd_kafka_new took it
  cluster_.reset(rd_kafka_mock_cluster_new(owner_.get(), brokers));
  if (!cluster_) throw Error(errc::fatal, "embedded broker: could not start the mock cluster");
  // Before any client can know the address.
  if (disable_nagle_on_listeners(bootstrap_servers()) < brokers)
    spdlog::debug("embedded broker: not every listening socket found; its connections keep Nagle's algorithm");
}

EmbeddedBroker::~EmbeddedBroker() {
  cluster_.reset();  // before its owner handle
  owner_.reset();
}

std::string EmbeddedBroker::bootstrap_servers() const {
  return rd_kafka_mock_cluster_bootstraps(cluster_.get());
}

// A request to the mock cluster made right after the previous one was
// answered may wait a whole second (librdkafka 2.0's mock thread can drain
// the new request's wake-up byte along with the old one's, then sleeps in
// poll() for its 1 s timeout; measured: 3-11 of 60 back-to-back requests).
// So a topic is asked for once, and a later request waits until the mock
// thread is back in poll(): a fraction of a millisecond suffices (0 of 60).
constexpr std::chrono::milliseconds kMockRequestGap{1};

void EmbeddedBroker::create_topic(const std::string& topic, int partitions) {
  if (!created_.insert(topic).second) return;  // an existing one is left as it is
  if (last_request_done_) std::this_thread::sleep_until(*last_request_done_ + kMockRequestGap);
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster_.get(), topic.c_str(), partitions, 1);
  last_request_done_ = std::chrono::steady_clock::now();
  if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    throw Error(errc::fatal, "embedded broker: cannot create topic `" + topic + "`: " +
                                       rd_kafka_err2str(err));
}

}  // namespace sluice
