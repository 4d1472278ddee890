// The HTTP server of a running pipeline: /metrics, /health, /ready and
// /api/status here; other modules (tap, status page) add their routes before
// start(). It reads the pipeline's Telemetry and never shows an option value.
#pragma once

#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace sluice {

struct HttpSettings;
class Telemetry;
class ProcessMetrics;

class HttpServer {
 public:
  // Binds at once, so a port in use is known before the pipeline starts:
  // throws sluice::Error (errc::config, naming the address) when `listen`
  // was set in the file; with the default, warns and takes the next free port.
  HttpServer(const HttpSettings& settings, Telemetry& telemetry);
  ~HttpServer();  // stops and joins; must run before the runners are destroyed
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  httplib::Server& routes();  // add routes here before start()
  void start();               // serves on its own threads; logs where
  std::string address() const;  // "127.0.0.1:9464"

 private:
  void bind(const HttpSettings& settings);
  void listen();  // the serving thread, once running
  void add_own_routes();

  Telemetry& telemetry_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<ProcessMetrics> process_metrics_;
  std::string host_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace sluice
