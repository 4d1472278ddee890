// Decodes a JSON record once and appends it as one row of COPY data (binary
// or text), converting each mapped field to its column's type. A record that
// cannot be converted yields a reason instead (it goes to the rejects).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "copy_format.h"
#include "table_schema.h"

namespace pgsink {

class RowEncoder {
 public:
  // `fast_paths`: whether the encoder may take its shortcuts (tests turn
  // them off to compare): a record whose columns are all top-level fields is
  // read in one pass over its fields, and a binary row of numbers is written
  // straight into the COPY data.
  RowEncoder(const std::vector<Column>& columns, CopyFormat format, bool fast_paths = true);

  // How `reason` begins for a record that is not JSON at all.
  static constexpr std::string_view kNotJson = "not valid JSON: ";

  // Appends the row to `out` and returns true; or leaves `out` as it was,
  // sets `reason` and returns false.
  bool encode(std::string_view json, std::string& out, std::string& reason);

  CopyFormat format() const { return format_; }

 private:
  // Finds each column's field in the record: in one pass over its fields
  // when every column is a distinct top-level field, else path by path.
  // False when a column's field is missing (`missing_` names it).
  bool find_fields(simdjson::dom::element doc);
  // The row, when every column is a number column and every field a number
  // it takes as it is (or null): written without the general conversions.
  // False, with `out` as it was, when a field needs them (a range to report,
  // a whole number written as 2.0, another type): the general path decides.
  bool encode_numbers(std::string& out);

  bool append_value(const Column& column, simdjson::dom::element value, std::string& out,
                    std::string& reason);
  // `text`: the value of a string field, without its tag (json_numbers.h).
  bool append_time(const Column& column, simdjson::dom::element value, std::string& out, std::string& reason,
                   std::string_view text);
  void append_integer(ColumnKind kind, int64_t n, std::string& out) const;
  void append_float(ColumnKind kind, double d, std::string& out) const;
  void append_bytes(std::string_view text, std::string& out) const;
  void append_json(ColumnKind kind, simdjson::dom::element value, std::string& out);

  std::vector<Column> columns_;
  CopyFormat format_;
  std::vector<std::vector<std::string>> paths_;  // per column, the field path split at dots
  simdjson::dom::parser parser_;
  std::string scratch_;
  std::string retagged_;  // a record with wide numbers, rewritten for simdjson
  bool tagged_ = false;   // whether the record in hand is retagged_
  bool one_pass_ = false;
  bool numbers_only_ = false;  // binary COPY, and every column a number column
  std::vector<simdjson::dom::element> fields_;  // per column, its field in the record in hand
  std::vector<char> found_;                     // per column, whether fields_ holds it
};

}  // namespace pgsink
