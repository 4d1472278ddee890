#include "regex.h"

#include <atomic>
#include <new>

#include <spdlog/spdlog.h>

namespace http_checker {

namespace {

std::atomic<bool> interpreter_logged{false};

// JIT needs memory that is written, then executed. Where that is refused
// (systemd's MemoryDenyWriteExecute=yes, as in sluice@.service; SELinux
// execmem) or the platform has no JIT, pcre2_match interprets the same
// compiled pattern: slower, same results. Said once per process, not once
// per pattern.
void jit_compile(pcre2_code* code) {
  int rc = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  if (rc == 0 || interpreter_logged.exchange(true)) return;
  PCRE2_UCHAR message[256];
  pcre2_get_error_message(rc, message, sizeof message);
  spdlog::info("http_checker: PCRE2 JIT unavailable ({}): body patterns run in the interpreter",
               reinterpret_cast<const char*>(message));
}

}  // namespace

std::shared_ptr<const Regex> Regex::compile(const std::string& pattern, std::string& error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  Pcre2Code compiled(pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &offset, nullptr));
  if (!compiled) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    error = std::string(reinterpret_cast<const char*>(message)) + " at offset " + std::to_string(offset);
    return nullptr;
  }
  // pcre2_match (never pcre2_jit_match) uses the JIT code when it exists
  // and interprets otherwise.
  jit_compile(compiled.get());
  return std::shared_ptr<const Regex>(new Regex(pattern, std::move(compiled)));
}

bool Regex::search(std::string_view subject, pcre2_match_data* match_data) const {
  int rc = pcre2_match(code_.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                       match_data, nullptr);
  // 0 means "matched, but the ovector is too small for the groups": still a match.
  return rc >= 0;
}

Pcre2MatchData Regex::make_match_data() {
  Pcre2MatchData data(pcre2_match_data_create(1, nullptr));
  if (!data) throw std::bad_alloc();
  return data;
}

}  // namespace http_checker
