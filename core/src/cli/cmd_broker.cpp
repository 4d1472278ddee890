// `sluice broker`: the embedded Kafka-protocol broker on its own, for several
// sluice processes (or any Kafka client) to share on this machine.
#include <cstdio>
#include <sstream>

#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/signals.h"
#include "kafka/embedded_broker.h"
#include "run/pipeline_runner.h"
#include "sluice/error.h"

namespace sluice::cli {

namespace {
// "routes:8,events" -> {routes: 8, events: 1}
bool parse_topics(const std::vector<std::string>& specs, std::vector<std::pair<std::string, int>>& out) {
  for (const auto& list : specs) {
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, ',');) {
      if (item.empty()) continue;
      auto colon = item.find(':');
      std::string name = item.substr(0, colon);
      int partitions = 1;
      if (colon != std::string::npos) {
        try {
          partitions = std::stoi(item.substr(colon + 1));
        } catch (...) {
          partitions = 0;
        }
      }
      if (name.empty() || partitions < 1) {
        std::fprintf(stderr, "error: --topics: `%s` is not NAME or NAME:PARTITIONS\n", item.c_str());
        return false;
      }
      out.emplace_back(name, partitions);
    }
  }
  return true;
}
}  // namespace

void add_broker(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "broker", "run the embedded Kafka-protocol broker on 127.0.0.1 until SIGINT/SIGTERM; "
                "prints its bootstrap address on the first line of stdout");
  auto topics = std::make_shared<std::vector<std::string>>();
  auto brokers = std::make_shared<int>(1);
  cmd->add_option("--topics", *topics, "topics to create, as NAME:PARTITIONS[,NAME:PARTITIONS...]");
  cmd->add_option("--brokers", *brokers, "number of brokers in the cluster")->check(CLI::Range(1, 16));
  cmd->callback([&exit_code, topics, brokers] {
    std::vector<std::pair<std::string, int>> wanted;
    if (!parse_topics(*topics, wanted)) {
      exit_code = kExitConfig;
      return;
    }
    StopSignal stop;
    SignalWatcher signals(stop);
    try {
      EmbeddedBroker broker(*brokers);
      for (const auto& [name, partitions] : wanted) broker.create_topic(name, partitions);
      std::printf("%s\n", broker.bootstrap_servers().c_str());
      std::fflush(stdout);
      spdlog::info("embedded broker on {} ({} topic(s)); it keeps about the newest 5 MB per "
                   "partition; stop with Ctrl-C", broker.bootstrap_servers(), wanted.size());
      while (!stop.wait_for(std::chrono::hours(1))) {}
      exit_code = kExitOk;
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());
      exit_code = kExitRuntime;
    }
  });
}

}  // namespace sluice::cli
