// Quoting of SQL identifiers, so a table name is only ever a name.
#pragma once

#include <string>

namespace pgsink {

// "a""b" for a"b.
std::string quote_ident(const std::string& name);

// "schema"."table" from `schema.table`, or "table"; everything else literal.
std::string quote_qualified(const std::string& name);

}  // namespace pgsink
