// One instance of a C plugin: its options, the code it runs (kept mapped
// while it lives) and the pointer the plugin made, destroyed through the
// descriptor. Plugin errors become sluice::Error here.
#pragma once

#include <memory>
#include <string>

#include "plugin/c_abi_types.h"
#include "sluice/error.h"

namespace sluice {

// The host's copy of a plugin's descriptor (members the plugin lacks are
// zero) and the library it came from.
struct CPlugin {
  sluice_plugin_descriptor d{};
  std::shared_ptr<void> library;
};

// Turns a plugin's returned error into a sluice::Error, freeing it.
inline void raise_c_error(sluice_error* raw, const std::string& what) {
  if (!raw) return;
  CErrorPtr err(raw);
  ErrorClass cls = ErrorClass::fatal;
  switch (err->code) {
    case SLUICE_ERROR_RETRIABLE: cls = ErrorClass::retriable; break;
    case SLUICE_ERROR_CONFIG: cls = ErrorClass::config; break;
    case SLUICE_ERROR_FENCED: cls = ErrorClass::fenced; break;
    default: break;
  }
  throw Error(cls, what + ": " + err->message);
}

class CInstance {
 public:
  CInstance(std::shared_ptr<const CPlugin> plugin, OptionValues values, const std::string& name,
            void* host_binding = nullptr)
      : plugin_(std::move(plugin)), d_(plugin_->d), config_{std::move(values), host_binding}, name_(name) {
    raise_c_error(d_.create(&config_, &self_), name_);
  }
  ~CInstance() { d_.destroy(self_); }
  CInstance(const CInstance&) = delete;
  CInstance& operator=(const CInstance&) = delete;

 protected:
  std::shared_ptr<const CPlugin> plugin_;  // keeps the code mapped while the instance lives
  const sluice_plugin_descriptor& d_;
  sluice_config config_;
  std::string name_;
  void* self_ = nullptr;
};

}  // namespace sluice
