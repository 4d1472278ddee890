// `sluice consume --topic T`: prints a topic's records as JSON lines on
// stdout, one object per record: topic, partition, offset, key, timestamp,
// value. Without --group it reads every partition directly and commits
// nothing; with --group it joins that group, starts where the group left
// off and commits what it printed.
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "cli/commands.h"
#include "cli/kafka_client.h"
#include "cli/load.h"
#include "cli/signals.h"
#include "kafka/client_config.h"
#include "run/pipeline_runner.h"
#include "sluice/error.h"
#include "sluice/json_text.h"
#include "sluice/utf8.h"

namespace sluice::cli {

namespace {

struct ConsumeArgs {
  KafkaClientArgs kafka;
  std::string topic, group;
  bool from_beginning = false;
  int64_t count = 0;  // 0 (not given): until stopped
};

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 | static_cast<unsigned char>(bytes[i + 1]) << 8 |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kDigits[(v >> shift) & 63];
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kDigits[(v >> 18) & 63];
    out += kDigits[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kDigits[(v >> 6) & 63] : '=';
    out += '=';
  }
}

// `"name": "text"`: bytes that are not UTF-8 become U+FFFD in the string,
// and then `"name_base64"` holds the exact bytes.
void append_text_field(std::string& out, const char* name, std::string_view bytes) {
  out += '"';
  out += name;
  out += "\":";
  if (first_invalid_utf8(bytes) == std::string_view::npos) return append_json_string(out, bytes);
  std::string repaired;
  for (size_t i = 0; i < bytes.size();) {
    const size_t len = utf8_sequence_length(bytes, i);
    if (len == 0) {
      repaired += "\xEF\xBF\xBD";
      ++i;
    } else {
      repaired.append(bytes.substr(i, len));
      i += len;
    }
  }
  append_json_string(out, repaired);
  out += ",\"";
  out += name;
  out += "_base64\":\"";
  append_base64(out, bytes);
  out += '"';
}

class RecordPrinter {
 public:
  // One line for the message, appended to `out`.
  void append(std::string& out, const rd_kafka_message_t* m) {
    out += "{\"topic\":";
    append_json_string(out, rd_kafka_topic_name(m->rkt));
    out += ",\"partition\":" + std::to_string(m->partition) + ",\"offset\":" + std::to_string(m->offset) + ",";
    if (m->key) append_text_field(out, "key", {static_cast<const char*>(m->key), m->key_len});
    else out += "\"key\":null";
    const int64_t ts = rd_kafka_message_timestamp(m, nullptr);
    out += ",\"timestamp\":" + (ts >= 0 ? std::to_string(ts) : std::string("null")) + ",";
    if (!m->payload) {
      out += "\"value\":null}\n";  // a tombstone
      return;
    }
    std::string_view value(static_cast<const char*>(m->payload), m->len);
    if (is_json(value)) {
      // Raw newlines can only be whitespace in valid JSON: the value stays as written, on one line.
      out += "\"value\":";
      const size_t start = out.size();
      out.append(value);
      for (size_t i = start; i < out.size(); ++i)
        if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
    } else {
      append_text_field(out, "value", value);
    }
    out += "}\n";
  }

 private:
  bool is_json(std::string_view value) {
    padded_.assign(value);
    padded_.resize(value.size() + simdjson::SIMDJSON_PADDING, '\0');
    simdjson::dom::element root;
    const simdjson::error_code error = parser_.parse(padded_.data(), value.size(), false).get(root);
    if (error == simdjson::NUMBER_ERROR) return valid_with_wide_numbers(value);
    return !error;
  }

  // A number beyond double or 64 bits (`1e400`, a 30-digit id) is valid JSON
  // that `produce` accepts and jsonb keeps, but simdjson cannot hold: each
  // number outside strings is checked against JSON's grammar and replaced by
  // 0, and the rest is parsed again.
  bool valid_with_wide_numbers(std::string_view value) {
    std::string copy;
    bool in_string = false;
    for (size_t i = 0; i < value.size(); ++i) {
      const char c = value[i];
      if (in_string) {
        copy += c;
        if (c == '\\' && i + 1 < value.size()) copy += value[++i];
        else if (c == '"') in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      if (c != '-' && (c < '0' || c > '9')) {
        copy += c;
        continue;
      }
      size_t end = i;
      while (end < value.size() && std::strchr("0123456789+-.eE", value[end]) && value[end] != '\0') ++end;
      if (!is_json_number(value.substr(i, end - i))) return false;
      copy += '0';
      i = end - 1;
    }
    padded_.assign(copy);
    padded_.resize(copy.size() + simdjson::SIMDJSON_PADDING, '\0');
    simdjson::dom::element root;
    return !parser_.parse(padded_.data(), copy.size(), false).get(root);
  }

  // JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  static bool is_json_number(std::string_view s) {
    size_t i = 0;
    const auto digits = [&] {
      const size_t start = i;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
      return i > start;
    };
    if (i < s.size() && s[i] == '-') ++i;
    if (i < s.size() && s[i] == '0') ++i;
    else if (!digits()) return false;
    if (i < s.size() && s[i] == '.' && (++i, !digits())) return false;
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
      ++i;
      if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
      if (!digits()) return false;
    }
    return i == s.size();
  }

  simdjson::dom::parser parser_;
  std::string padded_;
};

// Errors a consumer cannot get past by waiting.
bool lasting(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return true;
    default:
      return false;
  }
}

// Where printed lines go. A reader that went away (`| head -1`) ends the run
// quietly; any other write error (a full disk, a closed stdout) is an error.
class Output {
 public:
  enum class State { open, reader_gone, failed };

  // Writes all of `out` and clears it; false when stdout cannot take it.
  bool write(std::string& out) {
    for (size_t done = 0; done < out.size();) {
      const ssize_t n = ::write(STDOUT_FILENO, out.data() + done, out.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(errno);
      done += static_cast<size_t>(n);
    }
    out.clear();
    return true;
  }

  // While nothing is printed, a pipe whose reader closed it says so only
  // through poll(): checked so that an idle consumer does not wait forever.
  bool reader_still_there() {
    pollfd p{STDOUT_FILENO, 0, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP))) return fail(EPIPE);
    return true;
  }

  State state() const { return state_; }
  const std::string& error() const { return error_; }

 private:
  bool fail(int err) {
    state_ = err == EPIPE ? State::reader_gone : State::failed;
    error_ = std::string("writing to stdout: ") + std::strerror(err);
    return false;
  }

  State state_ = State::open;
  std::string error_;
};

// Records are printed in chunks of about this size even when the backlog
// gives no pause, so memory stays bounded.
constexpr size_t kOutputChunk = 256 * 1024;

class Committer {
 public:
  Committer(rd_kafka_t* rk, std::string topic) : rk_(rk), topic_(std::move(topic)) {}
  void printed(int32_t partition, int64_t offset) { next_[partition] = offset + 1; }
  // Commits what was printed since the last commit, synchronously.
  void commit() {
    if (next_.empty()) return;
    KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(next_.size())));
    for (const auto& [p, next] : next_) rd_kafka_topic_partition_list_add(list.get(), topic_.c_str(), p)->offset = next;
    if (rd_kafka_resp_err_t err = rd_kafka_commit(rk_, list.get(), 0))
      spdlog::warn("commit of offsets to `{}` failed: {}", topic_, rd_kafka_err2str(err));
    next_.clear();
  }

 private:
  rd_kafka_t* rk_;
  std::string topic_;
  std::map<int32_t, int64_t> next_;
};

int consume(const ConsumeArgs& args, const GlobalOptions& global) {
  // Checked first: a closed fd 1 would be reused by the next file the
  // process opens (a librdkafka socket), and records written into it.
  if (::fcntl(STDOUT_FILENO, F_GETFD) < 0) {
    std::fprintf(stderr, "error: writing to stdout: Bad file descriptor (stdout is not open)\n");
    return kExitRuntime;
  }
  PluginRegistry registry;
  if (!load_registry(registry, global)) return kExitConfig;
  auto client = resolve_kafka_client(args.kafka, registry);
  if (!client) return kExitConfig;
  // A closed pipe is a write error (EPIPE), handled below, not a kill: the
  // consumer still leaves its group cleanly.
  std::signal(SIGPIPE, SIG_IGN);
  StopSignal stop;
  SignalWatcher signals(stop);
  KafkaHandle rk;
  std::vector<int32_t> partitions;
  const bool in_group = !args.group.empty();
  try {
    KafkaConf conf = make_client_conf(client->settings, client->bootstrap, ClientRole::consumer);
    // Without a group nothing is committed; librdkafka still wants a group id.
    set_property(conf.get(), "group.id", in_group ? args.group : "sluice-consume");
    set_property(conf.get(), "auto.offset.reset", args.from_beginning ? "earliest" : "latest");
    char err[512];
    rk.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), err, sizeof err));
    if (!rk) throw Error(errc::config, std::string("kafka consumer: ") + err);
    conf.release();
    rd_kafka_poll_set_consumer(rk.get());
    partitions = reach_topic(rk.get(), *client, args.topic);
    KafkaPartitions list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
    if (in_group) {
      rd_kafka_topic_partition_list_add(list.get(), args.topic.c_str(), RD_KAFKA_PARTITION_UA);
      if (rd_kafka_resp_err_t e = rd_kafka_subscribe(rk.get(), list.get()))
        throw Error(errc::fatal, "subscribe to `" + args.topic + "`: " + rd_kafka_err2str(e));
    } else {
      for (int32_t p : partitions)
        rd_kafka_topic_partition_list_add(list.get(), args.topic.c_str(), p)->offset =
            args.from_beginning ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
      if (rd_kafka_resp_err_t e = rd_kafka_assign(rk.get(), list.get()))
        throw Error(errc::fatal, "assign the partitions of `" + args.topic + "`: " + rd_kafka_err2str(e));
    }
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    std::fprintf(stderr, "error: %s\n", redact_process(e.what()).c_str());
    return error && error->error_class() == ErrorClass::config ? kExitConfig : kExitRuntime;
  }

  RecordPrinter printer;
  Committer committer(rk.get(), args.topic);
  Output output;
  std::string out;
  uint64_t printed = 0;
  int exit_code = kExitOk;
  rd_kafka_resp_err_t last_warned = RD_KAFKA_RESP_ERR_NO_ERROR;
  // Prints what is pending; only what reached stdout is committed.
  const auto print = [&] {
    if (out.empty()) return output.reader_still_there();
    if (!output.write(out)) return false;
    if (in_group) committer.commit();
    return true;
  };
  while (!stop.requested() && (args.count == 0 || printed < static_cast<uint64_t>(args.count))) {
    // Print as soon as nothing more is waiting: lines appear as records arrive.
    KafkaMessage m(rd_kafka_consumer_poll(rk.get(), 0));
    if (!m) {
      if (!print()) break;
      m.reset(rd_kafka_consumer_poll(rk.get(), 100));
      if (!m) continue;
    }
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      std::string what = rd_kafka_message_errstr(m.get());
      if (lasting(m->err)) {
        spdlog::error("consume from `{}`: {}", args.topic, what);
        exit_code = kExitRuntime;
        break;
      }
      if (m->err != last_warned) spdlog::warn("consume from `{}`: {} (retrying)", args.topic, what);
      last_warned = m->err;
      continue;
    }
    printer.append(out, m.get());
    committer.printed(m->partition, m->offset);
    ++printed;
    if (out.size() >= kOutputChunk && !print()) break;
  }
  if (output.state() == Output::State::open) print();
  if (output.state() == Output::State::failed) {
    spdlog::error("consume from `{}`: {}; stopping, nothing after the last line written is committed", args.topic,
                  output.error());
    exit_code = kExitRuntime;
  } else if (output.state() == Output::State::reader_gone) {
    spdlog::info("consume: the reader of stdout went away; stopping");
  }
  rd_kafka_consumer_close(rk.get());
  spdlog::info("consume: {} record(s) printed from `{}`{}", printed, args.topic,
               in_group ? ", offsets committed for group `" + args.group + "`" : ", no offsets committed");
  return exit_code;
}

}  // namespace

void add_consume(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "consume", "print a topic's records on stdout as JSON lines (topic, partition, offset, key, timestamp, "
                 "value) until --count records or SIGINT/SIGTERM (exit 0; 1: the cluster or topic cannot be "
                 "reached; 2: configuration error)");
  auto args = std::make_shared<ConsumeArgs>();
  cmd->add_option("--topic", args->topic, "the topic to read")->required()->check(topic_name_problem);
  cmd->add_flag("--from-beginning", args->from_beginning,
                "start at the oldest record kept (default: only records produced from now on); with --group, "
                "only where the group has no committed offset");
  cmd->add_option("--count", args->count, "exit after printing this many records (at least 1; default: until stopped)")
      ->check([](const std::string& s) {
        int64_t n = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        return ec == std::errc() && end == s.data() + s.size() && n >= 1
                   ? std::string()
                   : "`" + s + "`: must be a whole number of at least 1 (leave --count out to read until stopped)";
      });
  cmd->add_option("--group", args->group,
                  "join this consumer group: start at its committed offsets and commit what was printed "
                  "(default: no group, nothing committed)");
  add_kafka_client_options(cmd, args->kafka);
  cmd->callback([&global, &exit_code, args] { exit_code = consume(*args, global); });
}

}  // namespace sluice::cli
