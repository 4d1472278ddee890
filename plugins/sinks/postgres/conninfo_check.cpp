#include "conninfo_check.h"

#include <memory>

#include <libpq-fe.h>

namespace pgsink {

namespace {

struct OptionsFree {
  void operator()(PQconninfoOption* p) const { PQconninfoFree(p); }
};
struct MessageFree {
  void operator()(char* p) const { PQfreemem(p); }
};

bool is_uri(const std::string& s) { return s.rfind("postgresql://", 0) == 0 || s.rfind("postgres://", 0) == 0; }

// connect() hands the conninfo to libpq as an expandable dbname: text with
// neither `=` nor a URI prefix is a database name, not a conninfo.
bool is_connection_string(const std::string& s) { return is_uri(s) || s.find('=') != std::string::npos; }

// Every "…" of libpq's message becomes "***": what it quotes is the
// conninfo's own text, possibly the password or what follows it.
std::string mask_quoted(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  for (size_t open = message.find('"'); open != std::string::npos;) {
    size_t close = message.find('"', open + 1);
    if (close == std::string::npos) {
      message.replace(open + 1, std::string::npos, "***");
      break;
    }
    message.replace(open + 1, close - open - 1, "***");
    open = message.find('"', open + 5);
  }
  return message;
}

// Where a password may be in text libpq could not parse: in a URI, the
// userinfo after its `:`; in key=value form, everything after `password=`
// (an unquoted space ends the value early, and libpq quotes the rest).
void add_password_guesses(const std::string& conninfo, sluice::OptionCheck& found) {
  if (is_uri(conninfo)) {
    size_t start = conninfo.find("://") + 3;
    size_t at = conninfo.rfind('@');
    size_t colon = conninfo.find(':', start);
    if (colon == std::string::npos || (at != std::string::npos && colon > at)) return;
    size_t end = at != std::string::npos && at > colon ? at : conninfo.size();
    found.secret_spans.push_back(conninfo.substr(colon + 1, end - colon - 1));
    if (at != std::string::npos && at > colon) found.secrets.push_back(conninfo.substr(colon + 1, at - colon - 1));
    return;
  }
  for (size_t at = conninfo.find("password"); at != std::string::npos; at = conninfo.find("password", at + 8)) {
    size_t eq = conninfo.find_first_not_of(" \t\n\r", at + 8);
    if (eq == std::string::npos || conninfo[eq] != '=') continue;
    size_t value = conninfo.find_first_not_of(" \t\n\r", eq + 1);
    if (value != std::string::npos) found.secret_spans.push_back(conninfo.substr(value));
  }
}

}  // namespace

sluice::OptionCheck check_conninfo(const std::string& conninfo, const std::string&) {
  sluice::OptionCheck found;
  if (!is_connection_string(conninfo)) return found;
  char* raw_error = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsFree> options(PQconninfoParse(conninfo.c_str(), &raw_error));
  std::unique_ptr<char, MessageFree> error(raw_error);
  add_password_guesses(conninfo, found);
  if (!options) {
    found.problem = "libpq cannot parse this conninfo: " +
                    (error ? mask_quoted(error.get()) : std::string("out of memory"));
    return found;
  }
  for (const PQconninfoOption* o = options.get(); o->keyword; ++o) {
    std::string keyword = o->keyword;
    if (o->val && *o->val && (keyword == "password" || keyword == "sslpassword")) {
      found.secrets.push_back(o->val);
      found.secret_spans.push_back(o->val);
    }
  }
  return found;
}

}  // namespace pgsink
