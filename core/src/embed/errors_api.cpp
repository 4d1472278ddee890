// sluice.h: error objects, the version, freeing what the library returned.
#include <cstdlib>

#include "embed/c_api_support.h"

namespace sluice::embed {

int code_of(ErrorClass cls) {
  switch (cls) {
    case ErrorClass::config: return SLUICE_ERROR_CONFIG;
    case ErrorClass::retriable: return SLUICE_ERROR_RETRIABLE;
    case ErrorClass::fenced: return SLUICE_ERROR_FENCED;
    default: return SLUICE_ERROR_FATAL;
  }
}

int fail(sluice_error** out, int code, std::string message, std::vector<Diagnostic> diagnostics) {
  if (out) {
    try {
      *out = std::make_unique<sluice_error>(sluice_error{code, std::move(message), std::move(diagnostics)}).release();
    } catch (...) {
      *out = nullptr;  // out of memory: the code still says what happened
    }
  }
  return code;
}

}  // namespace sluice::embed

extern "C" {

const char* sluice_version(void) { return SLUICE_VERSION_STRING; }

int sluice_error_get_code(const sluice_error* e) { return e ? e->code : 0; }
const char* sluice_error_message(const sluice_error* e) { return e ? e->message.c_str() : ""; }
int sluice_error_retriable(const sluice_error* e) {
  if (!e) return 0;
  return e->code == SLUICE_ERROR_RETRIABLE || e->code == SLUICE_ERROR_CONNECT || e->code == SLUICE_ERROR_AGAIN;
}
int sluice_error_fatal(const sluice_error* e) {
  if (!e) return 0;
  return e->code == SLUICE_ERROR_FATAL || e->code == SLUICE_ERROR_CONFIG || e->code == SLUICE_ERROR_USAGE;
}

sluice_error* sluice_error_new(int code, const char* message) {
  sluice_error* e = nullptr;
  sluice::embed::fail(&e, code, message ? message : "");
  return e;
}

void sluice_error_free(sluice_error* e) { sluice::CErrorPtr owned(e); }

size_t sluice_error_diagnostic_count(const sluice_error* e) { return e ? e->diagnostics.size() : 0; }

int sluice_error_diagnostic(const sluice_error* e, size_t index, int* is_error, const char** file, int* line,
                            int* column, const char** message) {
  if (!e || index >= e->diagnostics.size()) return 0;
  const sluice::Diagnostic& d = e->diagnostics[index];
  if (is_error) *is_error = d.severity == sluice::Diagnostic::Severity::error;
  if (file) *file = d.pos.file.c_str();
  if (line) *line = d.pos.line;
  if (column) *column = d.pos.column;
  if (message) *message = d.message.c_str();
  return 1;
}

void sluice_free(void* memory) { std::free(memory); }

}  // extern "C"
