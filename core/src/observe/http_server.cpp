#include "observe/http_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "config/pipeline.h"
#include "observe/process_metrics.h"
#include "observe/status_json.h"
#include "observe/telemetry.h"
#include "sluice/error.h"

namespace sluice {

namespace {

// Each open tap or page poll holds a thread for its request; more than
// httplib's default (8 on a small host) so a few browsers and taps fit.
constexpr size_t kServerThreads = 16;
// With the default address, this many ports after it are tried before any free one.
constexpr int kFallbackPorts = 20;

std::string host_port(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
// second sluice would share the port instead of learning it is in use.
void reuse_address_only(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

HttpServer::HttpServer(const HttpSettings& settings, Telemetry& telemetry)
    : telemetry_(telemetry), server_(std::make_unique<httplib::Server>()) {
  server_->set_socket_options(reuse_address_only);
  // Short timeouts so a stop is never held up long by an idle or slow client.
  server_->set_keep_alive_timeout(2);
  server_->set_read_timeout(2, 0);
  server_->set_write_timeout(2, 0);
  server_->set_payload_max_length(64 << 10);  // every endpoint is a GET: no body to take
  // httplib owns the queue it is handed (it deletes it when listening ends).
  server_->new_task_queue = [] { return std::make_unique<httplib::ThreadPool>(kServerThreads).release(); };
  bind(settings);
  if (!is_loopback_host(host_))
    spdlog::warn("http: listening on {}, which other hosts can reach (allow_remote = true): the "
                 "endpoints have no authentication", address());
  process_metrics_ = std::make_unique<ProcessMetrics>(telemetry_.registry());
  add_own_routes();
}

void HttpServer::bind(const HttpSettings& settings) {
  host_ = settings.host;
  errno = 0;
  if (settings.port == 0) {  // any free port, as asked
    port_ = server_->bind_to_any_port(host_);
    if (port_ < 0) throw Error(errc::config, "http: cannot listen on " + host_port(host_, 0) + " ([http] listen)");
    return;
  }
  if (server_->bind_to_port(host_, settings.port)) {
    port_ = settings.port;
  } else {
    std::string why = errno ? std::strerror(errno) : "cannot bind";
    const std::string wanted = host_port(host_, settings.port);
    if (settings.listen_explicit)
      throw Error(errc::config, "http: cannot listen on " + wanted + " ([http] listen): " + why);
    for (int p = settings.port + 1; p <= settings.port + kFallbackPorts && p <= 65535 && port_ == 0; ++p)
      if (server_->bind_to_port(host_, p)) port_ = p;
    if (port_ == 0) {
      port_ = server_->bind_to_any_port(host_);
      if (port_ < 0) throw Error(errc::config, "http: cannot listen on " + wanted + " nor any other port: " + why);
    }
    spdlog::warn("http: {} is in use ({}); serving on {} instead (set [http] listen to choose the address)",
                 wanted, why, host_port(host_, port_));
  }
}

HttpServer::~HttpServer() {
  // A server never started still holds its bound socket, which only
  // stop() of a listening server closes.
  if (!thread_.joinable()) {
    try {
      listen();
    } catch (...) {
    }
  }
  if (thread_.joinable()) {
    server_->stop();
    thread_.join();
  }
}

httplib::Server& HttpServer::routes() { return *server_; }

std::string HttpServer::address() const { return host_port(host_, port_); }

void HttpServer::start() {
  if (thread_.joinable()) return;
  listen();
  spdlog::info("http: serving /metrics, /health, /ready and the status page on http://{}/", address());
}

void HttpServer::listen() {
  thread_ = std::thread([this] {
    try {
      server_->listen_after_bind();
    } catch (const std::exception& e) {
      spdlog::error("http: the server stopped: {}", e.what());
    } catch (...) {
      spdlog::error("http: the server stopped");
    }
  });
  // stop() does nothing until the server runs: wait for it, so a stop
  // right after start is not lost (the destructor would wait forever).
  // (Bounded: if listening failed at once, it never runs.)
  for (int i = 0; i < 5000 && !server_->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void HttpServer::add_own_routes() {
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(telemetry_.registry().render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server_->Get("/health", [this](const httplib::Request&, httplib::Response& res) {
    StatusBody body = health_json(telemetry_);
    res.status = body.ok ? 200 : 503;
    res.set_content(body.json, "application/json");
  });
  server_->Get("/ready", [this](const httplib::Request&, httplib::Response& res) {
    StatusBody body = ready_json(telemetry_);
    res.status = body.ok ? 200 : 503;
    res.set_content(body.json, "application/json");
  });
  server_->Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(status_json(telemetry_), "application/json");
  });
  // Whatever a handler throws becomes a 500 without its text: an error's
  // message could name more than a client should see.
  server_->set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    spdlog::warn("http: {} failed", req.path);
    res.status = 500;
    res.set_content("{\"error\":\"internal error\"}\n", "application/json");
  });
}

}  // namespace sluice
