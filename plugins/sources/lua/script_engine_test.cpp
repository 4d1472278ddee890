// The script engine against a fake emitter: what ctx does, when the state is
// written (only after the emitter says everything was delivered), and how
// sluice.http's options are checked (no network: the engine has no client).
#include "script_engine.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "state_file.h"

namespace fs = std::filesystem;
using namespace lua_source;

namespace {

class FakeEmitter : public sluice::Emitter {
 public:
  std::vector<std::string> values, keys;
  std::vector<size_t> emitted_at_wait;  // how many records were emitted at each wait_delivered
  bool deliver = true;
  void emit(std::string_view value, std::optional<std::string_view> key) override {
    values.emplace_back(value);
    keys.emplace_back(key ? std::string(*key) : "<none>");
  }
  bool stop = false;
  bool stopping() const override { return stop; }
  std::vector<double> slept;
  bool wait_for(double seconds) override {
    slept.push_back(seconds);
    return !stop;
  }
  bool wait_delivered() override {
    emitted_at_wait.push_back(values.size());
    return deliver;
  }
};

class ScriptEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/lua_engine_test.XXXXXX";
    dir_ = ::mkdtemp(name);
    host_.emitter = &emitter_;
    host_.state_path = state_path_for(dir_.string(), "s");
    params_ = {{"base", "http://127.0.0.1:1"}};
    secrets_ = {{"token", "hunter2-secret"}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<ScriptEngine> load(const std::string& script) {
    const std::string path = (dir_ / "script.lua").string();
    std::ofstream(path) << script;
    EngineSettings settings{path, "script.lua", dir_.string(), {200'000, 8u << 20}, &params_, &secrets_};
    auto engine = std::make_unique<ScriptEngine>(settings, host_);
    std::string error;
    EXPECT_TRUE(engine->ok()) << engine->error();
    if (engine->ok()) {
      EXPECT_TRUE(engine->set_state("{}", error)) << error;
    }
    return engine;
  }
  std::string saved() {
    auto text = read_state(host_.state_path);
    return text.value_or("<none>");
  }

  fs::path dir_;
  FakeEmitter emitter_;
  ScriptHost host_;
  sluice::StringMap params_, secrets_;
};

}  // namespace

TEST_F(ScriptEngineTest, TheStateIsWrittenOnlyAfterEveryEmittedRecordWasDelivered) {
  auto engine = load(R"(
function poll(ctx)
  ctx.emit({id = 1}, "k1")
  ctx.emit('{"id":2}')
  ctx.state.after = 2
end)");
  std::string error;
  ASSERT_TRUE(engine->call_entry(error)) << error;
  EXPECT_EQ(emitter_.values, (std::vector<std::string>{R"({"id":1})", R"({"id":2})"}));
  EXPECT_EQ(emitter_.keys, (std::vector<std::string>{"k1", "<none>"}));
  EXPECT_EQ(saved(), "<none>");
  ASSERT_EQ(engine->checkpoint(error), 1) << error;
  EXPECT_EQ(emitter_.emitted_at_wait, std::vector<size_t>{2});
  EXPECT_EQ(saved(), R"({"after":2})");
  ASSERT_EQ(engine->checkpoint(error), 1);  // unchanged: waited for (records may be in flight), not written again
  EXPECT_EQ(emitter_.emitted_at_wait.size(), 2u);
}

// checkpoint() means "every record so far is in Kafka" even when ctx.state did
// not change: a script may then acknowledge its upstream (delete a message).
TEST_F(ScriptEngineTest, ACheckpointWithAnUnchangedStateStillWaitsForDelivery) {
  host_.last_saved = "{}";  // as loaded
  auto engine = load(R"(
function poll(ctx)
  ctx.emit({id = 1})
  assert(ctx.checkpoint() == true)
  ctx.emit({id = 2})
  assert(ctx.checkpoint() == true)
end)");
  std::string error;
  ASSERT_TRUE(engine->call_entry(error)) << error;
  EXPECT_EQ(emitter_.emitted_at_wait, (std::vector<size_t>{1, 2}));
  EXPECT_EQ(saved(), "<none>");  // nothing to write: the state is still the empty one loaded
}

// Once the pipeline stops, ctx.sleep returns false at once and run()'s budget
// is no longer renewed: a run() that ignores the false ends at the budget
// instead of spinning for good (SIGTERM used to hang).
TEST_F(ScriptEngineTest, ARunThatIgnoresTheStopEndsAtTheBudget) {
  auto engine = load("function run(ctx) while true do ctx.sleep(1); ctx.checkpoint() end end");
  emitter_.stop = true;
  std::string error;
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("instruction budget exceeded"), std::string::npos) << error;
}

TEST_F(ScriptEngineTest, NoStateIsWrittenWhenDeliveryCouldNotBeConfirmed) {
  auto engine = load("function poll(ctx) ctx.emit({id = 1}); ctx.state.after = 1 end");
  emitter_.deliver = false;  // the pipeline stopped before Kafka acknowledged
  std::string error;
  ASSERT_TRUE(engine->call_entry(error)) << error;
  EXPECT_EQ(engine->checkpoint(error), 0);
  EXPECT_EQ(saved(), "<none>");
}

TEST_F(ScriptEngineTest, CtxHasParamsSecretsAndCheckpointInsideACall) {
  auto engine = load(R"(
function poll(ctx)
  sluice.log.info("base " .. ctx.params.base)
  sluice.log("debug", "the transforms' form works too")
  assert(ctx.secrets.token == "hunter2-secret")
  ctx.emit({n = 1})
  ctx.state.n = 1
  assert(ctx.checkpoint() == true)
  ctx.emit({n = 2})
end)");
  std::string error;
  ASSERT_TRUE(engine->call_entry(error)) << error;
  EXPECT_EQ(emitter_.emitted_at_wait, std::vector<size_t>{1});
  EXPECT_EQ(saved(), R"({"n":1})");
}

TEST_F(ScriptEngineTest, BadHttpOptionsAreErrorsAtTheScriptsLineWithoutHeaderValues) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({headers = {["bad name"] = "x"}})", "is not a header name"},
      {R"({headers = {Authorization = "Bearer hunter2-secret\r\nX: y"}})", "holds a line break"},
      {R"({headers = {Authorization = "Bearer hunter2\0secret"}})", "NUL byte"},
      {R"({headers = {Authorization = {}}})", "must be a string"},
      {R"({timeout = -1})", "opts.timeout must be a number of seconds"},
      {R"({timeout = "soon"})", "opts.timeout must be a number of seconds"},
      {R"({body = {}})", "opts.body must be a string"},
      {R"("not a table")", "table expected"},
  };
  for (const auto& [opts, expected] : cases) {
    auto engine = load(std::string("function poll(ctx)\n  sluice.http.get(ctx.params.base, ") + opts + ")\nend\n");
    std::string error;
    EXPECT_FALSE(engine->call_entry(error)) << opts;
    EXPECT_NE(error.find("script.lua:2:"), std::string::npos) << error;
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  }
  auto engine = load("function poll(ctx) sluice.http.request('get', 'http://x/') end");
  std::string error;
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("is not a method"), std::string::npos) << error;
}

TEST_F(ScriptEngineTest, ARecordThatCannotBeEncodedIsAnErrorAtTheEmitsLine) {
  auto engine = load("function poll(ctx)\n  ctx.emit({f = print})\nend\n");
  std::string error;
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("script.lua:2: ctx.emit: sluice.json.encode"), std::string::npos) << error;
  engine = load("function poll(ctx)\n  ctx.state.f = print\n  ctx.checkpoint()\nend\n");
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("script.lua:3: ctx.checkpoint: ctx.state: sluice.json.encode"), std::string::npos) << error;
  engine = load("function poll(ctx)\n  ctx.emit(42)\nend\n");
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("script.lua:2: bad argument #1 to 'emit'"), std::string::npos) << error;
}

TEST_F(ScriptEngineTest, SleepTakesAnyNumberAndWaitsAtMostAYear) {
  auto engine = load("function poll(ctx) assert(ctx.sleep(1e300)); ctx.sleep(0/0); ctx.sleep(-5); ctx.sleep(0.25) end");
  std::string error;
  ASSERT_TRUE(engine->call_entry(error)) << error;
  EXPECT_EQ(emitter_.slept, (std::vector<double>{365.0 * 86400, 0, 0, 0.25}));
}

TEST_F(ScriptEngineTest, WithoutAClientHttpReturnsNilAndAnError) {
  auto engine = load(R"(
function poll(ctx)
  local r, err = sluice.http.get(ctx.params.base, {headers = {Accept = "application/json"}, timeout = 2})
  assert(r == nil and err:find("no requests"), tostring(err))
end)");
  std::string error;
  EXPECT_TRUE(engine->call_entry(error)) << error;
}

TEST_F(ScriptEngineTest, AnEndlessLoopEndsAtTheBudgetWithItsLine) {
  auto engine = load("function poll(ctx)\n  while true do end\nend\n");
  std::string error;
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("script.lua:2: instruction budget exceeded"), std::string::npos) << error;
}

TEST_F(ScriptEngineTest, AStateThatIsNotAJsonObjectIsRefused) {
  auto engine = load("function poll(ctx) end");
  std::string error;
  EXPECT_FALSE(engine->set_state("[1, 2]", error));
  EXPECT_NE(error.find("not hold a JSON object"), std::string::npos) << error;
  EXPECT_FALSE(engine->set_state("{\"a\": ", error));
  EXPECT_NE(error.find("not valid JSON"), std::string::npos) << error;
  EXPECT_TRUE(engine->set_state(" {\"seen\": {\"a/b\": 3}} ", error)) << error;
}

TEST_F(ScriptEngineTest, AScriptMustDefineExactlyOneOfPollAndRun) {
  EXPECT_NE(check_script("/nonexistent.lua", "x.lua", ""), "");
  const std::string path = (dir_ / "both.lua").string();
  std::ofstream(path) << "function poll() end\nfunction run() end\n";
  EXPECT_NE(check_script(path, "both.lua", "").find("defines both"), std::string::npos);
  std::ofstream(path) << "function poll(\n";
  EXPECT_NE(check_script(path, "both.lua", "").find("both.lua:2:"), std::string::npos) << check_script(path, "both.lua", "");
}

// The start refuses a state file that is not a JSON object, so an array is
// never written: the source would not start again.
TEST_F(ScriptEngineTest, AStateThatEncodesToAnArrayIsNotWritten) {
  auto engine = load(R"(
function poll(ctx)
  ctx.state = sluice.json.decode("[1, 2]")
  ctx.checkpoint()
end)");
  std::string error;
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("script.lua:4: ctx.state not saved: ctx.state must be a JSON object"), std::string::npos)
      << error;
  EXPECT_EQ(saved(), "<none>");
}

// Likewise a string that is not UTF-8: the start's JSON reader refuses it.
TEST_F(ScriptEngineTest, AStateWithInvalidUtf8IsNotWrittenAndTheOldOneStays) {
  auto engine = load(R"(
function poll(ctx)
  ctx.state.n = 1
  assert(ctx.checkpoint())
  ctx.state.etag = "\255\254 raw bytes"
  ctx.checkpoint()
end)");
  std::string error;
  EXPECT_FALSE(engine->call_entry(error));
  EXPECT_NE(error.find("script.lua:6: ctx.state not saved: ctx.state holds a string that is not valid UTF-8"),
            std::string::npos) << error;
  EXPECT_EQ(saved(), R"({"n":1})");
}
