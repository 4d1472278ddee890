#include "sluice/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <variant>

namespace sluice::metrics {

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  counts_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
}

size_t Histogram::bucket_of(double v) const {
  return static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
}

void Histogram::observe(double v) {
  counts_[bucket_of(v)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

void Histogram::observe_many(const std::vector<uint64_t>& counts, double sum) {
  for (size_t i = 0; i < counts.size() && i <= bounds_.size(); ++i)
    if (counts[i]) counts_[i].fetch_add(counts[i], std::memory_order_relaxed);
  sum_.fetch_add(sum, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> duration_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> size_buckets() {
  return {1, 10, 100, 1000, 10000, 100000, 1000000};
}

struct Registry::Series {
  Labels labels;
  std::variant<Counter, SecondsCounter, Gauge, Histogram> metric;
};

struct Registry::Family {
  std::string name, help;
  Type type;
  std::map<Labels, std::unique_ptr<Series>> series;
  std::map<uint64_t, Collect> collectors;
};

Registry::Registry(Labels common) : common_(std::move(common)) {}
Registry::~Registry() = default;

Registry::Family& Registry::family(std::string_view name, std::string_view help, Type type) {
  auto it = families_.find(name);
  if (it == families_.end()) {
    auto f = std::make_unique<Family>();
    f->name = name;
    f->help = help;
    f->type = type;
    it = families_.emplace(f->name, std::move(f)).first;
  } else if (it->second->type != type || it->second->help != help) {
    throw std::logic_error("metric " + std::string(name) + " registered twice with another type or help");
  }
  return *it->second;
}

Registry::Series& Registry::series(Family& f, const Labels& labels) {
  auto& slot = f.series[labels];
  if (!slot) {
    slot = std::make_unique<Series>();
    slot->labels = labels;
  }
  return *slot;
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = series(family(name, help, Type::counter), labels);
  if (s.metric.index() != 0) throw std::logic_error("metric " + std::string(name) + ": not a counter");
  return std::get<Counter>(s.metric);
}

SecondsCounter& Registry::seconds_counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = series(family(name, help, Type::counter), labels);
  if (s.metric.index() == 0) s.metric.emplace<SecondsCounter>();
  if (s.metric.index() != 1) throw std::logic_error("metric " + std::string(name) + ": not a seconds counter");
  return std::get<SecondsCounter>(s.metric);
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& s = series(family(name, help, Type::gauge), labels);
  if (s.metric.index() == 0) s.metric.emplace<Gauge>();
  if (s.metric.index() != 2) throw std::logic_error("metric " + std::string(name) + ": not a gauge");
  return std::get<Gauge>(s.metric);
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const Labels& labels,
                               const std::vector<double>& upper_bounds) {
  std::lock_guard lock(mutex_);
  auto& s = series(family(name, help, Type::histogram), labels);
  if (s.metric.index() == 0) s.metric.emplace<Histogram>(upper_bounds);
  if (s.metric.index() != 3) throw std::logic_error("metric " + std::string(name) + ": not a histogram");
  return std::get<Histogram>(s.metric);
}

uint64_t Registry::add_collector(std::string_view name, std::string_view help, Type type, Collect collect) {
  std::lock_guard lock(mutex_);
  uint64_t id = next_collector_++;
  family(name, help, type).collectors.emplace(id, std::move(collect));
  return id;
}

void Registry::remove_collector(uint64_t id) {
  std::lock_guard lock(mutex_);
  for (auto& [name, f] : families_) f->collectors.erase(id);
}

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

std::string escape_help(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void put_number(std::string& out, double v) {
  if (std::isnan(v)) { out += "NaN"; return; }
  if (std::isinf(v)) { out += v > 0 ? "+Inf" : "-Inf"; return; }
  char buf[32];
  if (v == std::floor(v) && std::fabs(v) < 9e15)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else {
    // The shortest of these that reads back as the same number.
    for (int digits : {15, 16, 17}) {
      std::snprintf(buf, sizeof buf, "%.*g", digits, v);
      if (std::strtod(buf, nullptr) == v) break;
    }
  }
  out += buf;
}

void put_labels(std::string& out, const Labels& common, const Labels& labels, const char* le = nullptr) {
  if (common.empty() && labels.empty() && !le) return;
  out += '{';
  bool first = true;
  auto one = [&](const std::string& k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  };
  for (const auto& [k, v] : common) one(k, v);
  for (const auto& [k, v] : labels) one(k, v);
  if (le) one("le", le);
  out += '}';
}

const char* type_name(Type t) {
  switch (t) {
    case Type::counter: return "counter";
    case Type::gauge: return "gauge";
    case Type::histogram: return "histogram";
  }
  return "untyped";
}

}  // namespace

std::string Registry::render() const {
  std::string out;
  std::vector<Sample> samples;
  std::lock_guard lock(mutex_);
  for (const auto& [name, f] : families_) {
    samples.clear();
    for (const auto& [id, collect] : f->collectors) collect(samples);
    if (f->series.empty() && samples.empty()) continue;
    out += "# HELP " + name + ' ' + escape_help(f->help) + '\n';
    out += "# TYPE " + name + ' ' + type_name(f->type) + '\n';
    for (const auto& [labels, s] : f->series) {
      if (auto* h = std::get_if<Histogram>(&s->metric)) {
        auto snap = h->snapshot();
        const auto& bounds = h->upper_bounds();
        for (size_t i = 0; i <= bounds.size(); ++i) {
          std::string le;
          if (i < bounds.size()) put_number(le, bounds[i]);
          else le = "+Inf";
          out += name + "_bucket";
          put_labels(out, common_, labels, le.c_str());
          out += ' ';
          put_number(out, static_cast<double>(snap.cumulative[i]));
          out += '\n';
        }
        out += name + "_sum";
        put_labels(out, common_, labels);
        out += ' ';
        put_number(out, snap.sum);
        out += '\n' + name + "_count";
        put_labels(out, common_, labels);
        out += ' ';
        put_number(out, static_cast<double>(snap.count));
        out += '\n';
        continue;
      }
      double v = std::visit([](const auto& m) -> double {
        if constexpr (std::is_same_v<std::decay_t<decltype(m)>, Histogram>) return 0;
        else return static_cast<double>(m.value());
      }, s->metric);
      out += name;
      put_labels(out, common_, labels);
      out += ' ';
      put_number(out, v);
      out += '\n';
    }
    for (const auto& sample : samples) {
      out += name;
      put_labels(out, common_, sample.labels);
      out += ' ';
      put_number(out, sample.value);
      out += '\n';
    }
  }
  return out;
}

}  // namespace sluice::metrics
