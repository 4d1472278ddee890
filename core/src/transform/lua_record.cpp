#include "transform/lua_record.h"

#include <cstring>
#include <memory>
#include <new>

extern "C" {
#include <lauxlib.h>
}

#include "transform/lua_json.h"
#include "transform/lua_state.h"

namespace sluice {

namespace {

// Why even a small record of scalars stays lazy, though a validation script
// reads most of its fields through the __index metamethod (about 590
// instructions a read, a quarter of validate_route.lua's cost): pushing it
// as a plain table instead was measured (callgrind, 100k routes records,
// issue 13) at 11,070 instructions a record against 10,370 lazy, even with
// the names cached as Lua strings and a marker metatable whose __newindex
// notices added fields. Setting a field through the C API costs about 190
// instructions and making the table some 500, and telling that the record
// came back unchanged (so its text can stand for it) then takes a rawget
// and a comparison per field, where the lazy record needs none.
constexpr size_t kMaxLazyFields = 32;
constexpr size_t kInitialCapacity = 4096;

// The key (by its address) under which a lazy record keeps its own text, so
// that it can still be built after the next record replaced the document.
// Scripts cannot name it, and nothing raw sees it before materializing.
const char kTextKey = 0;

// Field names are short and mostly differ in their first letter: checked
// before memcmp, which costs more as a call than the comparison itself.
bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a[0] == b[0] && std::memcmp(a.data(), b.data(), a.size()) == 0));
}

// True when the lazy record at `index` holds a field already: a
// materialization cut short (out of memory, caught by the script) left it,
// and the script may have changed it since.
bool has_fields(lua_State* L, int index) {
  lua_pushnil(L);
  while (lua_next(L, index)) {
    lua_pop(L, 1);
    if (lua_touserdata(L, -1) != &kTextKey) {
      lua_pop(L, 1);
      return true;
    }
  }
  return false;
}

// Sets an object's fields into the table at `index` (the last of repeated
// names wins), but for fields it has already when `keep_present`.
void set_fields(lua_State* L, int index, simdjson::dom::object object, bool keep_present) {
  for (auto [key, value] : object) {
    lua_pushlstring(L, key.data(), key.size());
    if (keep_present) {
      lua_pushvalue(L, -1);
      if (lua_rawget(L, index) != LUA_TNIL) {
        lua_pop(L, 2);
        continue;
      }
      lua_pop(L, 1);
    }
    if (!push_json(L, value)) luaL_error(L, "record nested too deeply");
    lua_rawset(L, index);
  }
}

// Pushes a noted field's value, unless it is nested (then false).
bool push_scalar(lua_State* L, const RecordDecoder::Field& field) {
  using simdjson::dom::element_type;
  switch (field.type) {
    case element_type::INT64: lua_pushinteger(L, field.integer); return true;
    case element_type::UINT64:
    case element_type::DOUBLE: lua_pushnumber(L, field.number); return true;
    case element_type::STRING: lua_pushlstring(L, field.text.data(), field.text.size()); return true;
    case element_type::BOOL: lua_pushboolean(L, field.boolean); return true;
    case element_type::NULL_VALUE: lua_pushlightuserdata(L, lua_json_null()); return true;
    default: return false;
  }
}

RecordDecoder* decoder_of(lua_State* L) {
  return static_cast<RecordDecoder*>(lua_touserdata(L, lua_upvalueindex(1)));
}

}  // namespace

RecordDecoder::RecordDecoder(lua_State* L) {
  // A record nesting deeper than a table may is rejected when parsed, as a
  // lazy record may be built where a Lua error cannot be caught.
  if (parser_.allocate(kInitialCapacity, kMaxJsonDepth) != simdjson::SUCCESS) throw std::bad_alloc();
  fields_.reserve(kMaxLazyFields);
  lua_createtable(L, 0, 5);
  const std::pair<const char*, lua_CFunction> events[] = {{"__index", index_event},
                                                          {"__newindex", newindex_event},
                                                          {"__len", len_event},
                                                          {"materialize", materialize_function}};
  for (const auto& [name, function] : events) {
    lua_pushlightuserdata(L, this);
    lua_pushcclosure(L, function, 1);
    lua_setfield(L, -2, name);
  }
  // The sandbox's `next` sees through records; pairs needs the plain one it wraps.
  lua_pushlightuserdata(L, this);
  lua_getglobal(L, "next");
  if (lua_getupvalue(L, -1, 1)) lua_remove(L, -2);
  lua_pushcclosure(L, pairs_event, 2);
  lua_setfield(L, -2, "__pairs");
  lua_rawsetp(L, LUA_REGISTRYINDEX, kRecordMarker);
}

bool RecordDecoder::push(lua_State* L, std::string_view json, std::string& error) {
  simdjson::dom::element root;
  auto err = parser_.parse(json.data(), json.size()).get(root);
  if (err) {
    error = simdjson::error_message(err);
    return false;
  }
  root_ = root;
  lazy_ = nullptr;
  fields_noted_ = false;
  kept_depth_ = 0;  // no materialization is under way between records
  bool lazy = false;
  if (root.type() == simdjson::dom::element_type::OBJECT) {
    object_ = root.get_object().value_unsafe();
    lazy = object_.size() > 0 && object_.size() <= kMaxLazyFields;
  }
  if (!lazy) {
    const int top = lua_gettop(L);
    if (!push_json(L, root)) {
      lua_settop(L, top);
      error = "nested too deeply";
      return false;
    }
    return true;
  }
  if (!lua_checkstack(L, 4)) {
    error = "Lua stack exhausted";
    return false;
  }
  lua_createtable(L, 0, 1);
  lua_rawgetp(L, LUA_REGISTRYINDEX, kRecordMarker);
  lua_setmetatable(L, -2);
  lua_pushlstring(L, json.data(), json.size());
  lua_rawsetp(L, -2, &kTextKey);
  lazy_ = lua_topointer(L, -1);
  return true;
}

// Notes the root's fields; false when they are too many, none, or a name
// repeats (the table would hold one entry for two).
bool RecordDecoder::note_fields(simdjson::dom::object object) {
  using simdjson::dom::element_type;
  fields_.clear();
  const size_t size = object.size();
  if (size == 0 || size > kMaxLazyFields) return false;
  for (auto [key, value] : object) {
    for (const Field& seen : fields_)
      if (same_name(seen.key, key)) return false;
    Field& f = fields_.emplace_back();  // in place: capacity was reserved
    f.key = key;
    f.type = value.type();
    switch (f.type) {
      case element_type::STRING: f.text = value.get_string().value_unsafe(); break;
      case element_type::INT64: f.integer = value.get_int64().value_unsafe(); break;
      case element_type::UINT64: f.number = static_cast<double>(value.get_uint64().value_unsafe()); break;
      case element_type::DOUBLE: f.number = value.get_double().value_unsafe(); break;
      case element_type::BOOL: f.boolean = value.get_bool().value_unsafe(); break;
      default: f.element = value; break;
    }
  }
  return true;
}

bool RecordDecoder::fields_known() {
  if (!fields_noted_) {
    fields_noted_ = true;
    fields_known_ = root_.type() == simdjson::dom::element_type::OBJECT && note_fields(object_);
  }
  return fields_known_;
}

void RecordDecoder::materialize(lua_State* L, int index) {
  index = lua_absindex(L, index);
  if (!has_marker(L, index, kRecordMarker)) return;
  luaL_checkstack(L, 8, "materializing a record");
  const bool keep_present = has_fields(L, index);
  if (lua_topointer(L, index) == lazy_) {
    set_fields(L, index, object_, keep_present);
    lazy_ = nullptr;
  } else {
    // Kept from an earlier call: built from its own text (which stays on
    // the stack, and so alive, while its document is read). Building it can
    // run a script's finalizer that reads another kept record: each level of
    // that nesting has its own parser.
    lua_rawgetp(L, index, &kTextKey);
    size_t len = 0;
    const char* text = lua_tolstring(L, -1, &len);
    if (kept_parsers_.size() <= kept_depth_) {
      kept_parsers_.push_back(std::make_unique<simdjson::dom::parser>());
      if (kept_parsers_.back()->allocate(kInitialCapacity, kMaxJsonDepth) != simdjson::SUCCESS)
        luaL_error(L, "out of memory reading a kept record");
    }
    simdjson::dom::element root;
    if (!text || kept_parsers_[kept_depth_]->parse(text, len).get(root) ||
        root.type() != simdjson::dom::element_type::OBJECT)
      luaL_error(L, "a kept record cannot be read again");
    ++kept_depth_;
    set_fields(L, index, root.get_object().value_unsafe(), keep_present);
    --kept_depth_;
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  lua_rawsetp(L, index, &kTextKey);
  lua_pushnil(L);
  lua_setmetatable(L, index);
}

// r.name: a scalar straight from the noted fields; anything nested, or a
// record no longer current, is materialized and read from the table.
int RecordDecoder::index_event(lua_State* L) {
  using simdjson::dom::element_type;
  RecordDecoder* d = decoder_of(L);
  if (lua_topointer(L, 1) == d->lazy_) {
    if (lua_type(L, 2) != LUA_TSTRING) return 0;  // an object has names only
    size_t len = 0;
    const char* name = lua_tolstring(L, 2, &len);
    const std::string_view key(name, len);
    if (d->fields_known()) {
      const Field* field = nullptr;
      for (const Field& f : d->fields_)
        if (same_name(f.key, key)) {
          field = &f;
          break;
        }
      if (!field) return 0;
      if (push_scalar(L, *field)) return 1;
    } else {
      simdjson::dom::element value;
      bool found = false;
      for (auto field : d->object_)
        if (field.key == key) {  // the last of repeated names wins, as in the table
          value = field.value;
          found = true;
        }
      if (!found) return 0;
      if (value.type() != element_type::OBJECT && value.type() != element_type::ARRAY) {
        push_json(L, value);
        return 1;
      }
    }
  }
  d->materialize(L, 1);
  lua_settop(L, 2);
  lua_rawget(L, 1);
  return 1;
}

int RecordDecoder::newindex_event(lua_State* L) {
  decoder_of(L)->materialize(L, 1);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

int RecordDecoder::pairs_event(lua_State* L) {
  decoder_of(L)->materialize(L, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

int RecordDecoder::len_event(lua_State* L) {
  decoder_of(L)->materialize(L, 1);
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, 1)));
  return 1;
}

int RecordDecoder::materialize_function(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  decoder_of(L)->materialize(L, 1);
  return 0;
}

namespace {

bool same_field(lua_State* L, int index, const RecordDecoder::Field& field) {
  using simdjson::dom::element_type;
  switch (field.type) {
    case element_type::INT64:
      return lua_isinteger(L, index) && lua_tointeger(L, index) == field.integer;
    case element_type::UINT64:
    case element_type::DOUBLE:
      return lua_type(L, index) == LUA_TNUMBER && !lua_isinteger(L, index) && lua_tonumber(L, index) == field.number;
    case element_type::STRING: {
      if (lua_type(L, index) != LUA_TSTRING) return false;
      size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      return std::string_view(s, len) == field.text;
    }
    case element_type::BOOL:
      return lua_type(L, index) == LUA_TBOOLEAN && static_cast<bool>(lua_toboolean(L, index)) == field.boolean;
    case element_type::NULL_VALUE:
      return lua_type(L, index) == LUA_TLIGHTUSERDATA && lua_touserdata(L, index) == lua_json_null();
    default:
      return lua_same_as_json(L, index, field.element);
  }
}

}  // namespace

bool RecordDecoder::unchanged(lua_State* L, int index) {
  index = lua_absindex(L, index);
  // Never materialized: nothing was written. Unless a name repeats (a lazy
  // record's fields are then not known): the script read the last value, a
  // sink might take the first.
  // lazy_ is checked first: lua_topointer is null for numbers and booleans too.
  if (lazy_ && lua_topointer(L, index) == lazy_) return fields_known();
  if (!fields_known()) return lua_same_as_json(L, index, root_);
  if (!lua_istable(L, index)) return false;
  if (lua_getmetatable(L, index)) {  // built records have none
    lua_pop(L, 1);
    return false;
  }
  // lua_next visits in hash order; a field is looked for from where the
  // last one was found, which is right at once when the orders agree.
  size_t seen = 0, at = 0;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    size_t len = 0;
    const char* name = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &len) : nullptr;
    bool same = false;
    if (name) {
      const std::string_view key(name, len);
      for (size_t tried = 0; tried < fields_.size() && !same; ++tried) {
        const Field& field = fields_[at];
        at = at + 1 == fields_.size() ? 0 : at + 1;
        if (same_name(field.key, key)) {
          if (!same_field(L, -1, field)) break;
          same = true;
        }
      }
    }
    if (!same) {
      lua_pop(L, 2);
      return false;
    }
    ++seen;
    lua_pop(L, 1);
  }
  return seen == fields_.size();
}

}  // namespace sluice
