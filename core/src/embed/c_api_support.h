// What every function of the embedding API (sluice.h) shares: making the
// error objects it hands out, and a guard that keeps C++ exceptions from
// crossing into C.
#pragma once

#include <new>
#include <string>
#include <utility>

#include "plugin/c_abi_types.h"
#include "sluice.h"
#include "sluice/error.h"

namespace sluice::embed {

// The API's code for an error of the runtime.
int code_of(ErrorClass cls);

// Sets *out (when out is not NULL) to a new error; returns `code`, so that
// a function can `return fail(error, code, "...")`.
int fail(sluice_error** out, int code, std::string message, std::vector<Diagnostic> diagnostics = {});

inline void clear(sluice_error** out) {
  if (out) *out = nullptr;
}

// Runs `body` (returning an int code); an exception becomes an error
// (out of memory, or what the runtime threw).
template <class Body>
int guarded(sluice_error** error, Body&& body) noexcept {
  try {
    clear(error);
    return body();
  } catch (const std::bad_alloc&) {
    return fail(error, SLUICE_ERROR_FATAL, "out of memory");
  } catch (const Error& e) {
    return fail(error, code_of(e.error_class()), e.what());
  } catch (const std::exception& e) {
    return fail(error, SLUICE_ERROR_FATAL, e.what());
  } catch (...) {
    return fail(error, SLUICE_ERROR_FATAL, "an exception of unknown type");
  }
}

}  // namespace sluice::embed
