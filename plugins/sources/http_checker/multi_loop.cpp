#include "multi_loop.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace http_checker {

namespace {

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("http_checker: " + what); }

void check(CURLMcode rc, const char* what) {
  if (rc != CURLM_OK) fail(std::string(what) + ": " + curl_multi_strerror(rc));
}

}  // namespace

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

MultiLoop::MultiLoop() : epoll_(epoll_create1(EPOLL_CLOEXEC)), events_(256), multi_(curl_multi_init()) {
  if (!multi_) fail("curl_multi_init failed");
  if (epoll_.get() < 0) fail(std::string("epoll_create1: ") + std::strerror(errno));
  CURLM* m = multi_.get();
  check(curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &MultiLoop::on_socket), "socket function");
  check(curl_multi_setopt(m, CURLMOPT_SOCKETDATA, static_cast<void*>(this)), "socket data");
  check(curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &MultiLoop::on_timer), "timer function");
  check(curl_multi_setopt(m, CURLMOPT_TIMERDATA, static_cast<void*>(this)), "timer data");
}

void MultiLoop::add(CURL* easy) { check(curl_multi_add_handle(multi_.get(), easy), "curl_multi_add_handle"); }

void MultiLoop::remove(CURL* easy) {
  check(curl_multi_remove_handle(multi_.get(), easy), "curl_multi_remove_handle");
}

int MultiLoop::on_socket(CURL*, curl_socket_t fd, int what, void* self_ptr, void* registered) {
  auto* self = static_cast<MultiLoop*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    // curl forgets the socket (and our mark on it) after this call.
    epoll_ctl(self->epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    return 0;
  }
  epoll_event ev{};
  ev.data.fd = fd;
  if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
  if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
  int op = registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(self->epoll_.get(), op, fd, &ev) != 0) {
    // A socket curl closed and the kernel reused keeps curl's old mark.
    int other = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(self->epoll_.get(), other, fd, &ev) != 0) return -1;
  }
  // Any non-null pointer marks "in the epoll set".
  if (!registered) curl_multi_assign(self->multi_.get(), fd, self);
  return 0;
}

int MultiLoop::on_timer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<MultiLoop*>(self_ptr);
  if (timeout_ms < 0) self->timer_.reset();
  else self->timer_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

void MultiLoop::act(curl_socket_t fd, int flags) {
  int running = 0;
  check(curl_multi_socket_action(multi_.get(), fd, flags, &running), "curl_multi_socket_action");
}

void MultiLoop::poll(std::chrono::milliseconds max_wait) {
  using namespace std::chrono;
  auto now = steady_clock::now();
  auto wait = max_wait;
  if (timer_) {
    // Rounded up: waking a little late costs nothing, waking early spins.
    auto until = ceil<milliseconds>(*timer_ - now);
    wait = std::max(milliseconds(0), std::min(wait, until));
  }
  int n = epoll_wait(epoll_.get(), events_.data(), static_cast<int>(events_.size()),
                     static_cast<int>(wait.count()));
  if (n < 0 && errno != EINTR) fail(std::string("epoll_wait: ") + std::strerror(errno));
  for (int i = 0; i < n; ++i) {
    int flags = 0;
    if (events_[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (events_[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (events_[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    act(events_[i].data.fd, flags);
  }
  if (timer_ && steady_clock::now() >= *timer_) {
    timer_.reset();  // curl sets a new one from inside the call if it needs one
    act(CURL_SOCKET_TIMEOUT, 0);
  }
}

}  // namespace http_checker
