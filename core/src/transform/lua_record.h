// A record as a transform sees it: a table whose fields are read from the
// parsed JSON when the script asks for them, and which is built as a plain
// table (materialized) only once the script writes to it, walks it, or
// reaches into a nested value. A validation script that reads a few fields
// and hands the record on thus never builds one, and the record keeps its
// text byte for byte.
//
// To a script the record behaves as a plain table: pairs, next, rawget,
// rawset, rawlen, #, getmetatable and setmetatable all see its fields (they
// materialize it first). A record kept from an earlier call can still be
// read: it carries its own text and is materialized from that.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

extern "C" {
#include <lua.h>
}

namespace sluice {

class RecordDecoder {
 public:
  // Registers the records' metatable in L; the decoder serves that state only
  // and must outlive it.
  explicit RecordDecoder(lua_State* L);

  // Pushes the record: lazy for an object of 1 to 32 distinct fields, a plain
  // decoded value otherwise. On failure pushes nothing and sets `error`.
  bool push(lua_State* L, std::string_view json, std::string& error);

  // True if the value at `index` still encodes exactly as the text last
  // pushed, so that text can stand for it. Valid until the next push.
  bool unchanged(lua_State* L, int index);

  // True if the value at `index` is the record last pushed, still lazy (its
  // metatable is then the records' own).
  bool is_lazy(lua_State* L, int index) const { return lazy_ && lua_topointer(L, index) == lazy_; }

  // One top-level field of the last object pushed: its name, and its value
  // when a scalar (compared without going back to the document).
  struct Field {
    std::string_view key;
    simdjson::dom::element_type type;
    union {
      int64_t integer;
      double number;  // DOUBLE, and UINT64 as Lua sees it
      bool boolean;
    };
    std::string_view text;           // STRING
    simdjson::dom::element element;  // OBJECT and ARRAY
  };

 private:
  static int index_event(lua_State* L);
  static int newindex_event(lua_State* L);
  static int pairs_event(lua_State* L);
  static int len_event(lua_State* L);
  static int materialize_function(lua_State* L);

  bool note_fields(simdjson::dom::object object);
  // Notes the fields of the record last pushed on first use; false when
  // they cannot be noted (see note_fields).
  bool fields_known();
  // Builds the lazy record at `index` into a plain table (raises a Lua error
  // when out of memory).
  void materialize(lua_State* L, int index);

  simdjson::dom::parser parser_;
  std::vector<std::unique_ptr<simdjson::dom::parser>> kept_parsers_;  // see materialize()
  size_t kept_depth_ = 0;
  simdjson::dom::element root_;
  simdjson::dom::object object_;  // root_, when an object
  // Noted when a read or unchanged() first needs them: the root's fields, if
  // it is an object of distinct names (then fields_known_).
  std::vector<Field> fields_;
  bool fields_noted_ = false, fields_known_ = false;
  const void* lazy_ = nullptr;  // the record last pushed, while still lazy
};

}  // namespace sluice
