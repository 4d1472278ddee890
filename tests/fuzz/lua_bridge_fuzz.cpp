// Fuzzes the Lua record bridge: JSON -> Lua, both the plain decoder
// (JsonToLua, sluice.json.decode) and the lazily read record (RecordDecoder),
// and back to JSON (lua_to_json). Besides never crashing or leaking:
//  - decode then encode gives the input's canonical form (keys sorted,
//    integers and floats kept apart), wherever that is defined: no repeated
//    keys (the last one wins) and no integer beyond int64 (it becomes a float);
//  - the decoded value is reported the same as its JSON (lua_same_as_json),
//    and a record that a script only read, walked or rewrote with its own
//    values counts as unchanged, so its text may stand for it;
//  - a record a script changed never counts as unchanged;
//  - the lazy record, whatever a script did to it, encodes like the plain
//    decoding, and so does sluice.json.decode(sluice.json.encode(r)).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <simdjson.h>

extern "C" {
#include <lauxlib.h>
}

#include "transform/json_canonical.h"
#include "transform/lua_json.h"
#include "transform/lua_record.h"
#include "transform/lua_state.h"

using namespace sluice;

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "lua_bridge_fuzz: %s\n%.*s\n", what, static_cast<int>(detail.size()), detail.data());
  std::abort();
}

struct Shape {
  bool repeated_key = false;  // some object names a key twice
  bool big_object = false;    // some object has more than 32 keys (not searched for repeats)
  bool beyond_int64 = false;  // some integer is above INT64_MAX
  int depth = 0;              // of the deepest value, the root's being 1
};

void walk(simdjson::dom::element e, Shape& shape, int depth = 1) {
  using T = simdjson::dom::element_type;
  shape.depth = std::max(shape.depth, depth);
  switch (e.type()) {
    case T::OBJECT: {
      std::set<std::string_view> keys;
      simdjson::dom::object object = e.get_object().value_unsafe();
      if (object.size() > 32) shape.big_object = true;
      for (auto field : object) {
        if (!keys.insert(field.key).second) shape.repeated_key = true;
        walk(field.value, shape, depth + 1);
      }
      break;
    }
    case T::ARRAY: {
      simdjson::dom::array array = e.get_array().value_unsafe();  // a copy: ranging over the temporary dangles
      for (auto item : array) walk(item, shape, depth + 1);
      break;
    }
    case T::UINT64: shape.beyond_int64 = true; break;
    default: break;
  }
}

std::string canonical(std::string_view json) {
  std::string out, error;
  if (!canonical_json(json, out, error)) fail("not canonicalizable", std::string(json) + "\n" + error);
  return out;
}

std::string encode_top(lua_State* L, const char* what) {
  std::string out, error;
  if (!lua_to_json(L, -1, out, error)) fail(what, error);
  return out;
}

// What a script does to the record, and so what must hold after it.
enum class Effect {
  keeps,     // reads, walks, or writes back its own values: still unchanged, encodes the same
  adds,      // adds the field kProbeKey (an object): changed
  rebuilds,  // returns an equal value built anew: encodes the same
};
constexpr std::string_view kProbeKey("fuzz\0probe", 10);
struct Script {
  const char* code;
  Effect effect;
};
const Script kScripts[] = {
    {"local r = ... return r", Effect::keeps},
    {"local r = ... if type(r) == 'table' then for k in pairs(r) do local _ = r[k] end end return r", Effect::keeps},
    {"local r = ... if type(r) == 'table' then local _ = #r for k, v in pairs(r) do r[k] = v end end return r",
     Effect::keeps},
    {"local r = ... if type(r) == 'table' then r['fuzz\\0probe'] = 1 end return r", Effect::adds},
    {"local r = ... return sluice.json.decode(sluice.json.encode(r))", Effect::rebuilds},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  const bool valid = !parser.parse(json.data(), json.size()).get(root);

  LuaState lua({1'000'000, 64u << 20}, "");
  lua_State* L = lua.get();
  RecordDecoder records(L);
  JsonToLua plain;
  std::string error;

  if (!plain.push(L, json, error)) {
    if (error.empty() || lua_gettop(L) != 0) fail("a failed decoding left no error or a value", json);
    if (records.push(L, json, error)) fail("the record decoder took what the plain one refused", json);
    return 0;
  }
  if (!valid) fail("decoded JSON simdjson refuses", json);
  Shape shape;
  walk(root, shape);
  const bool faithful = !shape.repeated_key && !shape.beyond_int64;
  if (!shape.repeated_key && !shape.big_object && !lua_same_as_json(L, -1, root))
    fail("a decoded value is not the same as its JSON", json);
  const std::string plain_json = encode_top(L, "cannot encode a decoded value");
  lua_settop(L, 0);
  const std::string expected = canonical(plain_json);
  if (faithful && expected != canonical(json)) fail("decode/encode changed the value", json);

  simdjson::dom::element probe;
  const bool adds_a_field = root.is_object() && root.get_object().value_unsafe().at_key(kProbeKey).get(probe) != simdjson::SUCCESS;
  // The plain decoder takes one level more than the record's parser: a
  // value that deep is refused as a record, which is as good.
  if (shape.depth > kMaxJsonDepth) return 0;
  for (const Script& script : kScripts) {
    if (luaL_loadstring(L, script.code) != LUA_OK) fail("script does not compile", script.code);
    if (!records.push(L, json, error)) fail("the record decoder refused what the plain one took", error);
    if (int status = lua.call(1, 1); status != LUA_OK) fail("script failed", lua.pop_error(status));
    const bool unchanged = records.unchanged(L, -1);
    const std::string out = encode_top(L, "cannot encode the record");
    lua_settop(L, 0);
    const std::string detail = std::string(script.code) + "\n" + std::string(json) + "\n" + out;
    switch (script.effect) {
      case Effect::keeps:
        if (!shape.repeated_key && !shape.big_object && !unchanged) fail("a record a script kept counts as changed", detail);
        break;
      case Effect::adds:
        if (adds_a_field && unchanged) fail("a record a script changed counts as unchanged", detail);
        break;
      case Effect::rebuilds: break;
    }
    if (!(script.effect == Effect::adds && adds_a_field) && canonical(out) != expected)
      fail("the record encodes unlike its plain decoding", detail + "\n" + plain_json);
  }
  return 0;
}
