// The error a plugin or the runtime raises. It carries a code (sluice::errc,
// a std::error_code category) saying what went wrong, classified where it
// happened; the code's class decides what the runtime does:
//   config      a mistake in the pipeline or its files: exit 2
//   retriable   the outside world failed for now: retried with backoff
//   per_record  one record cannot be stored: rejected with a reason, the rest go on
//   fenced      another instance moved this sink's stored offsets on: the batch
//               was rolled back; the runner re-reads the offsets and seeks
//   fatal       anything else: the pipeline stops, exit 1
#pragma once

#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>

namespace sluice {

enum class ErrorClass { retriable, fatal, config, fenced, per_record };

enum class errc {
  // config
  config = 1,           // a mistake in the pipeline or a file it names
  // retriable
  unavailable,          // a service (database, broker) is unreachable or failing for now
  // per record
  bad_record,           // one record cannot be stored as it is
  // fenced
  fenced,               // another instance moved the stored offsets on
  // fatal
  fatal,                // a failure that retrying cannot mend
  offsets_expired,      // a stored offset is below the partition's log start
  offsets_foreign,      // a stored offset is above the high watermark: it belongs to another log
  stopped,              // a stop request interrupted a wait; nothing failed
};

}  // namespace sluice

template <>
struct std::is_error_code_enum<sluice::errc> : std::true_type {};

namespace sluice {

inline ErrorClass class_of(errc code) {
  switch (code) {
    case errc::config: return ErrorClass::config;
    case errc::unavailable: return ErrorClass::retriable;
    case errc::bad_record: return ErrorClass::per_record;
    case errc::fenced: return ErrorClass::fenced;
    default: return ErrorClass::fatal;
  }
}

// The code an error of a class has when the thrower named only the class.
inline errc default_code(ErrorClass cls) {
  switch (cls) {
    case ErrorClass::config: return errc::config;
    case ErrorClass::retriable: return errc::unavailable;
    case ErrorClass::per_record: return errc::bad_record;
    case ErrorClass::fenced: return errc::fenced;
    case ErrorClass::fatal: break;
  }
  return errc::fatal;
}

class ErrorCategory : public std::error_category {
 public:
  const char* name() const noexcept override { return "sluice"; }
  std::string message(int code) const override {
    switch (static_cast<errc>(code)) {
      case errc::config: return "configuration error";
      case errc::unavailable: return "unavailable for now";
      case errc::bad_record: return "record cannot be stored";
      case errc::fenced: return "fenced by another instance";
      case errc::fatal: return "fatal error";
      case errc::offsets_expired: return "stored offset no longer kept by the broker";
      case errc::offsets_foreign: return "stored offset above the high watermark (another log)";
      case errc::stopped: return "stopped on request";
    }
    return "unknown sluice error";
  }
};

// One instance per program (an inline function's static is shared).
inline const std::error_category& error_category() {
  static const ErrorCategory category;
  return category;
}

inline std::error_code make_error_code(errc code) { return {static_cast<int>(code), error_category()}; }

class Error : public std::runtime_error {
 public:
  Error(ErrorClass cls, const std::string& message)
      : std::runtime_error(message), class_(cls), code_(make_error_code(default_code(cls))) {}
  Error(errc code, const std::string& message)
      : std::runtime_error(message), class_(class_of(code)), code_(make_error_code(code)) {}

  ErrorClass error_class() const { return class_; }
  const std::error_code& code() const { return code_; }
  bool retriable() const { return class_ == ErrorClass::retriable; }
  // A stop request ended a wait: not a failure.
  bool stopped() const { return code_ == errc::stopped; }

 private:
  ErrorClass class_;
  std::error_code code_;
};

}  // namespace sluice
