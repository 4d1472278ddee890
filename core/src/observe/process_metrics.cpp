#include "observe/process_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "sluice/metrics.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "unknown"
#endif

namespace sluice {

double process_resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long total_pages = 0, resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return -1;
  return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double process_cpu_seconds() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double process_open_fds() {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/self/fd", ec);
  if (ec) return -1;
  double n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) return -1;
    ++n;
  }
  return n > 0 ? n - 1 : 0;  // the iterator's own descriptor of the directory is listed too
}

double process_start_time_seconds() {
  // Field 22 of /proc/self/stat: clock ticks from boot to the start; the
  // boot time is `btime` in /proc/stat. Field 2 (the command) may hold
  // spaces and parentheses, so fields are counted after its last ')'.
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i)
    if (!(fields >> field)) return -1;
  double start_ticks = std::stod(field);
  std::ifstream boot("/proc/stat");
  std::string key;
  double btime = -1;
  while (boot >> key) {
    if (key == "btime") {
      boot >> btime;
      break;
    }
    boot.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  if (btime < 0) return -1;
  return btime + start_ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

ProcessMetrics::ProcessMetrics(metrics::Registry& registry) : registry_(registry) {
  using metrics::Sample;
  using metrics::Type;
  auto reading = [](double (*read)()) {
    return [read](std::vector<Sample>& out) {
      double v = read();
      if (v >= 0) out.push_back(Sample{{}, v});
    };
  };
  collectors_.push_back(registry.add_collector("sluice_process_resident_memory_bytes",
                                               "resident set size of the sluice process", Type::gauge,
                                               reading(process_resident_bytes)));
  collectors_.push_back(registry.add_collector("sluice_process_cpu_seconds_total",
                                               "user and system CPU time of the sluice process",
                                               Type::counter, reading(process_cpu_seconds)));
  collectors_.push_back(registry.add_collector("sluice_process_open_fds", "open file descriptors",
                                               Type::gauge, reading(process_open_fds)));
  // Read once: it does not change.
  double start = process_start_time_seconds();
  if (start < 0)
    start = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  collectors_.push_back(registry.add_collector(
      "sluice_process_start_time_seconds", "start of the sluice process, in seconds since the Unix epoch",
      Type::gauge, [start](std::vector<Sample>& out) { out.push_back(Sample{{}, start}); }));
  collectors_.push_back(registry.add_collector(
      "sluice_build_info", "the sluice build (always 1)", Type::gauge,
      [](std::vector<Sample>& out) { out.push_back(Sample{{{"version", SLUICE_VERSION}}, 1}); }));
}

ProcessMetrics::~ProcessMetrics() {
  for (uint64_t id : collectors_) registry_.remove_collector(id);
}

}  // namespace sluice
