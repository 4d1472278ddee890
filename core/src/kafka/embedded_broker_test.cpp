#include "kafka/embedded_broker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace sluice {
namespace {

// The TCP_NODELAY of the connection the broker accepted on `port` from the
// client socket whose local port is `client_port`, once accepted.
std::optional<int> accepted_nodelay(int port, int client_port) {
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/fd"), closedir);
  if (!dir) return std::nullopt;
  std::optional<int> found;
  while (dirent* entry = readdir(dir.get())) {
    const int fd = std::atoi(entry->d_name);
    struct stat st;
    if (fd <= 2 || fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_in local{}, peer{};
    socklen_t len = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 || local.sin_family != AF_INET) continue;
    len = sizeof peer;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (ntohs(local.sin_port) != port || ntohs(peer.sin_port) != client_port) continue;
    int on = 0;
    len = sizeof on;
    if (getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len) == 0) found = on;
  }
  return found;
}

TEST(EmbeddedBroker, ItsConnectionsSendWithoutNaglesDelay) {
  EmbeddedBroker broker;
  const std::string bootstrap = broker.bootstrap_servers();
  const int port = std::atoi(bootstrap.substr(bootstrap.rfind(':') + 1).c_str());

  const int client = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(client, 0);
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{client};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  sockaddr_in mine{};
  socklen_t len = sizeof mine;
  ASSERT_EQ(getsockname(client, reinterpret_cast<sockaddr*>(&mine), &len), 0);

  // The mock's thread accepts the connection: wait for it to appear.
  std::optional<int> nodelay;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!(nodelay = accepted_nodelay(port, ntohs(mine.sin_port))) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(nodelay.has_value()) << "the broker never accepted the connection";
  EXPECT_EQ(*nodelay, 1);
}

}  // namespace
}  // namespace sluice
