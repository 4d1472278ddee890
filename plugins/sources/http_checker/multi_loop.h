// libcurl's multi interface driven by epoll: curl tells us which sockets to
// watch (CURLMOPT_SOCKETFUNCTION) and when to wake it (CURLMOPT_TIMERFUNCTION),
// so thousands of transfers run on one thread and each wake-up touches only
// the sockets that are ready.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include <sys/epoll.h>

#include "handles.h"

namespace http_checker {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

class MultiLoop {
 public:
  MultiLoop();
  MultiLoop(const MultiLoop&) = delete;
  MultiLoop& operator=(const MultiLoop&) = delete;

  void add(CURL* easy);
  void remove(CURL* easy);

  // Waits for socket activity or curl's timer, at most `max_wait`, and lets
  // curl act on what happened.
  void poll(std::chrono::milliseconds max_wait);

  // Calls done(easy, result) for each transfer that ended since the last call.
  template <class F>
  void for_each_done(F&& done) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left))
      if (msg->msg == CURLMSG_DONE) done(msg->easy_handle, msg->data.result);
  }

 private:
  static int on_socket(CURL* easy, curl_socket_t fd, int what, void* self, void* registered);
  static int on_timer(CURLM* multi, long timeout_ms, void* self);
  void act(curl_socket_t fd, int flags);

  // Declared before multi_ so that they outlive it: curl_multi_cleanup still
  // calls on_socket for the sockets it closes.
  Fd epoll_;
  std::optional<std::chrono::steady_clock::time_point> timer_;
  std::vector<epoll_event> events_;
  CurlMulti multi_;
};

}  // namespace http_checker
