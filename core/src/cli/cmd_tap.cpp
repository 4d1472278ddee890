// `sluice tap [--addr HOST:PORT] STEP [--rejects] [--limit N]`: prints the
// records passing a step of a running pipeline, one JSON line each as
// /api/tap sends them; with --rejects the step's latest rejects and then new
// ones, each line led by its reason. Until --limit lines, or stopped.
#include <chrono>
#include <cstdio>
#include <thread>

#include <simdjson.h>

#include "cli/commands.h"
#include "cli/http_client.h"
#include "run/pipeline_runner.h"

namespace sluice::cli {

namespace {

struct TapArgs {
  std::string addr = kDefaultHttpAddr, step;
  bool rejects = false;
  uint64_t limit = 0;  // 0: until stopped
};

// How long one /api/tap request streams before the next is made.
constexpr int kStreamSeconds = 30;

void print_line(std::string_view line) {
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// "REJECTED by transform: reason  | routes/3@1234  | record: {...}": the
// reason first, as it is what one looks for; reason and record as JSON
// strings, so that no byte of theirs reaches the terminal unescaped.
void print_reject(simdjson::dom::element reject) {
  std::string line = "REJECTED: ";
  simdjson::dom::element reason, record;
  std::string_view topic;
  line += reject["reason"].get(reason) ? std::string("?") : simdjson::to_string(reason);
  if (reject["topic"].get(topic)) topic = "?";
  line += "  | ";
  line += topic;
  int64_t partition = -1, offset = -1;
  if (!reject["partition"].get(partition) && !reject["offset"].get(offset))
    line += "/" + std::to_string(partition) + "@" + std::to_string(offset);
  line += "  | record: ";
  line += reject["record_text"].get(record) ? std::string("?") : simdjson::to_string(record);
  print_line(line);
}

// The unknown-step reply, and what the caller should exit with.
int refused(const HttpReply& reply) {
  std::fprintf(stderr, "error: %s\n", error_text(reply.body).c_str());
  return reply.status == 404 ? kExitConfig : kExitRuntime;
}

int tap_records(const HttpAddr& addr, const TapArgs& args) {
  uint64_t printed = 0;
  std::string partial;
  auto on_data = [&](const char* data, size_t size) {
    partial.append(data, size);
    size_t start = 0;
    for (size_t nl; (nl = partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl == start) continue;
      print_line(std::string_view(partial).substr(start, nl - start));
      if (args.limit && ++printed >= args.limit) return false;
    }
    partial.erase(0, start);
    return true;
  };
  for (;;) {
    const uint64_t ask = args.limit ? std::min<uint64_t>(args.limit - printed, 1000) : 1000;
    auto reply = http_get(addr,
                          "/api/tap?step=" + url_encode(args.step) + "&limit=" + std::to_string(ask) +
                              "&wait=" + std::to_string(kStreamSeconds),
                          kStreamSeconds + 10, on_data);
    if (!reply) return kExitRuntime;
    if (reply->status != 200) return refused(*reply);
    if (args.limit && printed >= args.limit) return kExitOk;
  }
}

int tap_rejects(const HttpAddr& addr, const TapArgs& args) {
  uint64_t printed = 0, after = 0;
  const uint64_t first = args.limit ? std::min<uint64_t>(args.limit, 100) : 10;
  simdjson::dom::parser parser;
  for (bool initial = true;; initial = false) {
    std::string path = "/api/rejects?step=" + url_encode(args.step) + "&after=" + std::to_string(after);
    if (initial) path += "&limit=" + std::to_string(first);
    auto reply = http_get(addr, path, 10);
    if (!reply) return kExitRuntime;
    if (reply->status != 200) return refused(*reply);
    simdjson::dom::element doc;
    simdjson::dom::array rejects;
    if (parser.parse(reply->body).get(doc) || doc["rejects"].get(rejects) || doc["last"].get(after)) {
      std::fprintf(stderr, "error: %s answered /api/rejects with what is not its JSON\n", addr.text.c_str());
      return kExitRuntime;
    }
    for (simdjson::dom::element r : rejects) {
      print_reject(r);
      if (args.limit && ++printed >= args.limit) return kExitOk;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the polling interval of a live view
  }
}

}  // namespace

void add_tap(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto* cmd = app.add_subcommand("tap", "print the records passing a step of a running pipeline (after its "
                                        "transforms), or with --rejects its rejects and why");
  auto args = std::make_shared<TapArgs>();
  cmd->add_option("step", args->step, "the source or sink, by its name in the pipeline file")->required();
  cmd->add_option("--addr", args->addr, "the pipeline's HTTP server ([http] listen)")->capture_default_str();
  cmd->add_flag("--rejects", args->rejects, "the step's latest rejects and then new ones, with their reasons");
  cmd->add_option("--limit", args->limit, "end after this many lines (default: until stopped)");
  cmd->callback([&exit_code, args] {
    auto addr = parse_http_addr(args->addr);
    if (!addr) {
      exit_code = kExitConfig;
      return;
    }
    exit_code = args->rejects ? tap_rejects(*addr, *args) : tap_records(*addr, *args);
  });
}

}  // namespace sluice::cli
