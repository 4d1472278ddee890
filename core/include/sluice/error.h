// The error a plugin or the runtime raises. Its class decides what happens:
// a retriable error is retried with backoff, a fatal one stops the pipeline.
#pragma once

#include <stdexcept>
#include <string>

namespace sluice {

// fenced: another instance moved this sink's stored offsets on; the batch was
// rolled back and the runner re-reads the offsets (Sink::on_assign) and seeks.
enum class ErrorClass { retriable, fatal, config, fenced };

class Error : public std::runtime_error {
 public:
  Error(ErrorClass cls, const std::string& message) : std::runtime_error(message), class_(cls) {}
  ErrorClass error_class() const { return class_; }
  bool retriable() const { return class_ == ErrorClass::retriable; }

 private:
  ErrorClass class_;
};

}  // namespace sluice
