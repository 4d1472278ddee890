#include "transform/transform_chain.h"

#include <charconv>
#include <filesystem>
#include <stdexcept>

#include "sluice/error.h"

extern "C" {
#include <lauxlib.h>
}

namespace sluice {

namespace {

TransformChain* chain_of(lua_State* L) {
  return static_cast<TransformChain*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// Both meta.set_key(k) and meta:set_key(k) work.
int first_argument(lua_State* L) { return lua_istable(L, 1) ? 2 : 1; }

int meta_set_key(lua_State* L) {
  int arg = first_argument(L);
  auto& pending = chain_of(L)->pending();
  if (lua_isnoneornil(L, arg)) {
    pending.key_set = pending.key_null = true;
    pending.key.clear();
    return 0;
  }
  if (lua_type(L, arg) != LUA_TSTRING && lua_type(L, arg) != LUA_TNUMBER)
    return luaL_error(L, "meta.set_key: expected a string, a number or nil, got a %s", luaL_typename(L, arg));
  size_t len = 0;
  const char* key = lua_tolstring(L, arg, &len);
  pending.key_set = true;
  pending.key_null = false;
  pending.key.assign(key, len);
  return 0;
}

int meta_set_header(lua_State* L) {
  int arg = first_argument(L);
  size_t name_len = 0, value_len = 0;
  const char* name = luaL_checklstring(L, arg, &name_len);
  const char* value = luaL_checklstring(L, arg + 1, &value_len);
  auto& headers = chain_of(L)->pending().headers;
  for (auto& [n, v] : headers)
    if (n == std::string_view(name, name_len)) {
      v.assign(value, value_len);
      return 0;
    }
  headers.emplace_back(std::string(name, name_len), std::string(value, value_len));
  return 0;
}

// meta is computed on access, so a script that never reads it costs nothing.
int meta_index(lua_State* L) {
  const TransformChain* chain = chain_of(L);
  const RecordMeta* meta = chain->current_meta();
  size_t len = 0;
  const char* name = lua_tolstring(L, 2, &len);
  std::string_view key = name ? std::string_view(name, len) : std::string_view();
  if (!meta) return 0;
  if (key == "topic") {
    lua_pushlstring(L, meta->topic.data(), meta->topic.size());
  } else if (key == "partition") {
    lua_pushinteger(L, meta->partition);
  } else if (key == "offset") {
    lua_pushinteger(L, meta->offset);
  } else if (key == "key") {
    const TransformChain::Carried* carried = chain->current_carried();
    if (carried && carried->key_set) {
      if (carried->key_null) lua_pushnil(L);
      else lua_pushlstring(L, carried->key.data(), carried->key.size());
    } else if (meta->key) {
      lua_pushlstring(L, meta->key->data(), meta->key->size());
    } else {
      lua_pushnil(L);
    }
  } else if (key == "timestamp") {
    int64_t ms = meta->lazy ? meta->lazy->timestamp_ms() : meta->timestamp_ms;
    if (ms >= 0) lua_pushnumber(L, static_cast<double>(ms) / 1000.0);
    else lua_pushnil(L);
  } else if (key == "headers") {
    std::span<const HeaderView> headers = meta->lazy ? meta->lazy->headers() : meta->headers;
    lua_createtable(L, 0, static_cast<int>(headers.size()));
    for (const auto& [header, value] : headers) {
      lua_pushlstring(L, header.data(), header.size());
      lua_pushlstring(L, value.data(), value.size());
      lua_rawset(L, -3);
    }
  } else if (key == "set_key") {
    lua_pushvalue(L, lua_upvalueindex(2));
  } else if (key == "set_header") {
    lua_pushvalue(L, lua_upvalueindex(3));
  } else {
    lua_pushnil(L);
  }
  return 1;
}

int meta_read_only(lua_State* L) {
  return luaL_error(L, "meta is read-only (use meta.set_key(k) or meta.set_header(name, value))");
}

std::string text_of(lua_State* L, int index) {
  if (lua_type(L, index) == LUA_TSTRING || lua_type(L, index) == LUA_TNUMBER) {
    size_t len = 0;
    const char* s = lua_tolstring(L, index, &len);
    return {s, len};
  }
  return std::string("(a ") + luaL_typename(L, index) + ")";
}

}  // namespace

TransformChain::Engine::Engine(const std::vector<std::string>& paths, TransformLimits limits, TransformChain* chain)
    : lua(limits, paths.empty() ? std::string() : std::filesystem::path(paths.front()).parent_path().string()),
      decoder(lua.get()) {
  lua_State* L = lua.get();
  for (const auto& path : paths) {
    Script script;
    script.name = std::filesystem::path(path).filename().string();
    std::string error;
    if (!lua.load_script(path, script.name, error)) throw std::runtime_error(error);
    if (lua_getfield(L, -1, "transform") != LUA_TFUNCTION) {
      lua_pop(L, 2);
      throw std::runtime_error(script.name + ": does not define a function transform(record, meta)");
    }
    script.function_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    scripts.push_back(std::move(script));
  }
  // meta: an empty proxy whose fields come from meta_index.
  lua_newtable(L);
  lua_newtable(L);
  lua_pushlightuserdata(L, chain);
  lua_pushlightuserdata(L, chain);
  lua_pushcclosure(L, meta_set_key, 1);
  lua_pushlightuserdata(L, chain);
  lua_pushcclosure(L, meta_set_header, 1);
  lua_pushcclosure(L, meta_index, 3);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, meta_read_only);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "meta");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  meta_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

TransformChain::TransformChain(const std::vector<std::string>& paths, TransformLimits limits)
    : paths_(paths), limits_(limits), engine_(std::make_unique<Engine>(paths_, limits_, this)) {}

TransformChain::~TransformChain() = default;

void TransformChain::reload() {
  engine_.reset();  // the old state is closed before the new one takes its memory
  try {
    engine_ = std::make_unique<Engine>(paths_, limits_, this);
  } catch (const std::exception& e) {
    throw Error(ErrorClass::fatal, std::string("cannot load the transforms again: ") + e.what());
  }
  spoiled_ = false;
  ++reloads_;
}

bool TransformChain::reject(std::string reason) {
  reason_ = std::move(reason);
  reject_class_ = "transform";
  return false;
}

void TransformChain::attach_metrics(metrics::Registry& registry, const metrics::Labels& labels) {
  counters_.clear();
  for (const Script& script : engine_->scripts) {
    metrics::Labels l = labels;
    l.emplace_back("script", script.name);
    auto limit = [&](const char* which) {
      metrics::Labels with_limit = l;
      with_limit.emplace_back("limit", which);
      return &registry.counter("sluice_lua_budget_rejects_total",
                               "Records a script rejected for running out of its instruction budget or memory cap",
                               with_limit);
    };
    counters_.push_back({&registry.counter("sluice_lua_calls_total", "Calls of a script's transform", l),
                         &registry.counter("sluice_lua_errors_total",
                                           "Calls of a script's transform that raised an error (budget trips not included)", l),
                         limit("instructions"), limit("memory")});
  }
}

bool TransformChain::reject_failed_call(size_t index, int status) {
  const std::string& script = engine_->scripts[index].name;
  std::string message = engine_->lua.pop_error(status);
  if (engine_->lua.spoiled()) spoiled_ = true;
  const BudgetTrip trip = engine_->lua.trip();
  if (trip == BudgetTrip::stopped) stopped_ = true;
  if (message.compare(0, script.size() + 1, script + ":") != 0) message = script + ": " + message;
  const bool budget = trip == BudgetTrip::instructions || trip == BudgetTrip::time || trip == BudgetTrip::memory;
  if (index < counters_.size()) {
    const ScriptCounters& c = counters_[index];
    (budget ? (trip == BudgetTrip::memory ? c.memory : c.instructions) : c.errors)->add();
  }
  reject(std::move(message));
  reject_class_ = budget ? "budget" : "script_error";
  return false;
}

namespace {

struct DecodeWork {
  RecordDecoder* decoder;
  std::string_view value;
  std::string* error;
};

// In a protected call: a record as large as the memory cap is a reject, not
// an allocation failure where nothing could catch it.
int decode_record(lua_State* L) {
  auto* work = static_cast<DecodeWork*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  return work->decoder->push(L, work->value, *work->error) ? 1 : 0;
}

}  // namespace

bool TransformChain::decode(std::string_view value) {
  // A record far smaller than what the cap leaves is built directly: it
  // cannot reach the cap (a decoded value takes at most some 30 times its
  // text), and a protected call would cost a tenth of a small record's time.
  // Any other is built where the cap holds and an overrun is a reject.
  const size_t cap = limits_.memory_bytes, used = engine_->lua.memory_in_use();
  const size_t room = used < cap ? cap - used : 0;
  if (room > kDecodeSlack && value.size() <= (room - kDecodeSlack) / kDecodeGrowth) {
    engine_->decoder.push(engine_->lua.get(), value, encode_error_);
    return true;
  }
  DecodeWork work{&engine_->decoder, value, &encode_error_};
  decode_status_ = engine_->lua.protect(decode_record, &work, 0, 1);
  return decode_status_ == LUA_OK;
}

TransformOutcome TransformChain::run(std::string_view value, const RecordMeta& meta, std::string& out,
                                     std::vector<TransformOutput>& outputs) {
  if (stopped_) throw Error(ErrorClass::retriable, "transforms stopped: a stop was requested while a script was stuck");
  if (spoiled_) reload();
  lua_State* L = engine_->lua.get();
  reason_.clear();
  const int top = lua_gettop(L);
  const size_t out_start = out.size(), outputs_start = outputs.size();
  encode_error_.clear();
  if (!decode(value)) {
    reason_ = "the record cannot be read: " + engine_->lua.pop_error(decode_status_);
    reject_class_ = engine_->lua.trip() == BudgetTrip::none ? "invalid_json" : "budget";
    spoiled_ = engine_->lua.spoiled();
    lua_settop(L, top);
    if (engine_->lua.trip() == BudgetTrip::stopped) {
      stopped_ = true;
      throw Error(ErrorClass::retriable, "transforms stopped: " + reason_);
    }
    return TransformOutcome::reject;
  }
  if (lua_gettop(L) == top || lua_isnil(L, -1)) {
    lua_settop(L, top);
    reason_ = "not valid JSON: " + encode_error_;
    reject_class_ = "invalid_json";
    return TransformOutcome::reject;
  }
  if (!lua_istable(L, -1)) {
    lua_settop(L, top);
    reason_ = "not a JSON object: " + std::string(value.substr(0, 64));
    reject_class_ = "invalid_json";
    return TransformOutcome::reject;
  }
  static const Carried nothing_set;
  meta_ = &meta;
  input_index_ = lua_gettop(L);
  bool ok = step(0, input_index_, nothing_set, out, outputs);
  input_index_ = 0;
  meta_ = nullptr;
  current_ = nullptr;
  lua_settop(L, top);
  if (!ok) {
    out.resize(out_start);
    outputs.resize(outputs_start);
    if (stopped_) throw Error(ErrorClass::retriable, "transforms stopped: " + reason_ + " (the record is left for the next run)");
    return TransformOutcome::reject;
  }
  return outputs.size() > outputs_start ? TransformOutcome::pass : TransformOutcome::drop;
}

bool TransformChain::step(size_t i, int record, const Carried& carried, std::string& out,
                          std::vector<TransformOutput>& outputs) {
  if (i == engine_->scripts.size()) return emit(record, carried, out, outputs);
  lua_State* L = engine_->lua.get();
  const Script& script = engine_->scripts[i];
  if (!lua_checkstack(L, 8)) return reject(script.name + ": Lua stack exhausted");
  current_ = &carried;
  pending_ = carried;
  const int base = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, script.function_ref);
  lua_pushvalue(L, record);
  lua_rawgeti(L, LUA_REGISTRYINDEX, engine_->meta_ref);
  if (i < counters_.size()) counters_[i].calls->add();
  int status = engine_->lua.call(2, 2);
  if (status != LUA_OK) return reject_failed_call(i, status);
  Carried mine = std::move(pending_);
  const int result = base + 1, extra = base + 2;
  bool ok = true;
  if (lua_isnil(L, result)) {
    if (!lua_isnil(L, extra)) ok = reject(script.name + ": " + text_of(L, extra));
  } else if (!lua_istable(L, result)) {
    ok = reject(script.name + ": transform returned a " + luaL_typename(L, result) +
                "; expected a table, nil (drop) or nil and a reason (reject)");
  } else if (!engine_->decoder.is_lazy(L, result) && has_marker(L, result, kManyMarker)) {
    auto n = static_cast<lua_Integer>(lua_rawlen(L, result));
    for (lua_Integer j = 1; ok && j <= n; ++j) {
      lua_rawgeti(L, result, j);
      if (!lua_istable(L, -1))
        ok = reject(script.name + ": item " + std::to_string(j) + " of sluice.many is a " +
                    luaL_typename(L, -1) + ", expected a table");
      else
        ok = step(i + 1, lua_gettop(L), mine, out, outputs);
      lua_pop(L, 1);
    }
  } else {
    ok = step(i + 1, result, mine, out, outputs);
  }
  lua_settop(L, base);
  return ok;
}

namespace {

struct EncodeWork {
  std::string* out;
  std::string* error;
  JsonLimits limits;  // the record's text counts against the memory cap
  bool encoded;
};

int encode_record(lua_State* L) {
  auto* work = static_cast<EncodeWork*>(lua_touserdata(L, 1));
  work->encoded = lua_to_json(L, 2, *work->out, *work->error, &work->limits);
  return 0;
}

}  // namespace

bool TransformChain::emit(int record, const Carried& carried, std::string& out,
                          std::vector<TransformOutput>& outputs) {
  TransformOutput o;
  lua_State* L = engine_->lua.get();
  // Validation scripts mostly pass the record on untouched: then its text
  // stands for it, which saves encoding and copying it (and keeps it byte
  // for byte).
  if (input_index_ && lua_rawequal(L, record, input_index_) && engine_->decoder.unchanged(L, record)) {
    o.value_is_input = true;
  } else {
    o.value_begin = out.size();
    EncodeWork work{&out, &encode_error_, {&LuaBudget::of(L), limits_.memory_bytes}, false};
    const std::string& last = engine_->scripts.back().name;
    if (const int status = engine_->lua.protect(encode_record, &work, record, 0); status != LUA_OK)
      return reject_failed_call(engine_->scripts.size() - 1, status);
    if (!work.encoded) {
      if (engine_->lua.spoiled()) spoiled_ = true;
      if (engine_->lua.trip() == BudgetTrip::stopped) stopped_ = true;
      reject(last + ": the record cannot be encoded: " + encode_error_);
      reject_class_ = engine_->lua.trip() == BudgetTrip::memory ? "budget" : "script_error";
      return false;
    }
    o.value_end = out.size();
  }
  if (carried.key_set) {
    o.key_set = true;
    o.key_null = carried.key_null;
    o.key_begin = out.size();
    out += carried.key;
    o.key_end = out.size();
  }
  o.headers = carried.headers;
  outputs.push_back(std::move(o));
  return true;
}

std::string check_script(const std::string& path, const std::string& shown, TransformLimits limits) {
  LuaState lua(limits, std::filesystem::path(path).parent_path().string());
  std::string error;
  if (!lua.load_script(path, shown, error)) return error;
  if (lua_getfield(lua.get(), -1, "transform") != LUA_TFUNCTION)
    return shown + ": does not define a function transform(record, meta)";
  return "";
}

}  // namespace sluice
