// Decodes a JSON record once and appends it as one row of PostgreSQL's COPY
// text format, converting each mapped field to its column's type. A record
// that cannot be converted yields a reason instead (it goes to the rejects).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "table_schema.h"

namespace pgsink {

class RowEncoder {
 public:
  explicit RowEncoder(const std::vector<Column>& columns);

  // Appends the row (with its newline) to `out` and returns true; or leaves
  // `out` as it was, sets `reason` and returns false.
  bool encode(std::string_view json, std::string& out, std::string& reason);

 private:
  bool append_value(const Column& column, simdjson::dom::element value, std::string& out,
                    std::string& reason);

  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> paths_;  // per column, the field path split at dots
  simdjson::dom::parser parser_;
  std::string scratch_;
};

// Appends `text` escaped for COPY's text format.
void append_copy_text(std::string& out, std::string_view text);

}  // namespace pgsink
