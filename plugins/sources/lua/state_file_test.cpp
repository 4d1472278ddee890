#include "state_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "sluice/error.h"

namespace fs = std::filesystem;
using namespace lua_source;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char name[] = "/tmp/lua_state_test.XXXXXX";
    path = ::mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(StateFile, WriteThenReadGivesTheTextAndLeavesNoTempFile) {
  TempDir dir;
  const std::string path = state_path_for(dir.path.string(), "github");
  EXPECT_EQ(path, (dir.path / "github.state.json").string());
  EXPECT_FALSE(read_state(path).has_value());
  write_state(path, R"({"seen":{"a/b":3}})");
  write_state(path, R"({"seen":{"a/b":4}})");
  EXPECT_EQ(read_state(path).value(), R"({"seen":{"a/b":4}})");
  EXPECT_FALSE(fs::exists(path + ".tmp"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(StateFile, AFailedWriteKeepsThePreviousContent) {
  TempDir dir;
  const std::string path = state_path_for(dir.path.string(), "s");
  write_state(path, "{\"n\":1}");
  fs::create_directory(path + ".tmp");  // the temp file cannot be created
  EXPECT_THROW(write_state(path, "{\"n\":2}"), sluice::Error);
  EXPECT_EQ(read_state(path).value(), "{\"n\":1}");
}

TEST(StateFile, SourceNamesAreMadeSafeAsFileNames) {
  EXPECT_EQ(state_path_for("/d", "../x/y"), "/d/_.._x_y.state.json");
  EXPECT_EQ(state_path_for("/d", "a b"), "/d/a_b.state.json");
}

TEST(StateFile, MakeStateDirCreatesParentsWithMode0700) {
  TempDir dir;
  const fs::path deep = dir.path / "a" / "b";
  make_state_dir(deep.string());
  struct stat st {};
  ASSERT_EQ(::stat(deep.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  make_state_dir(deep.string());  // exists: fine
  std::ofstream(dir.path / "file") << "x";
  EXPECT_THROW(make_state_dir((dir.path / "file").string()), sluice::Error);
}

TEST(StateFile, AnUnreadableStateFileIsAnErrorNamingIt) {
  TempDir dir;
  const fs::path p = dir.path / "s.state.json";
  fs::create_directory(p);  // a directory where the file should be
  try {
    read_state(p.string());
    FAIL() << "no error";
  } catch (const sluice::Error& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    EXPECT_EQ(e.error_class(), sluice::ErrorClass::config);
  }
}

TEST(StateFile, StateDirDefaultsFollowSystemdThenXdgThenHome) {
  const char* keep_state = std::getenv("STATE_DIRECTORY");
  const char* keep_xdg = std::getenv("XDG_STATE_HOME");
  const std::string saved_state = keep_state ? keep_state : "", saved_xdg = keep_xdg ? keep_xdg : "";
  EXPECT_EQ(state_dir_for(std::string("st"), "/p", "pl"), "/p/st");
  EXPECT_EQ(state_dir_for(std::string("/abs"), "/p", "pl"), "/abs");
  ::setenv("STATE_DIRECTORY", "/var/lib/sluice:/other", 1);
  EXPECT_EQ(state_dir_for(std::nullopt, "/p", "pl"), "/var/lib/sluice");
  ::unsetenv("STATE_DIRECTORY");
  ::setenv("XDG_STATE_HOME", "/x", 1);
  EXPECT_EQ(state_dir_for(std::nullopt, "/p", "pl"), "/x/sluice/pl");
  ::unsetenv("XDG_STATE_HOME");
  ::setenv("HOME", "/h", 1);
  EXPECT_EQ(state_dir_for(std::nullopt, "/p", "pl"), "/h/.local/state/sluice/pl");
  if (keep_state) ::setenv("STATE_DIRECTORY", saved_state.c_str(), 1);
  if (keep_xdg) ::setenv("XDG_STATE_HOME", saved_xdg.c_str(), 1);
}

// What is written must be readable at the next start: a state over the read
// cap would otherwise be saved and then stop every later start.
TEST(StateFile, AStateOverTheReadCapIsNotWrittenAndTheOldOneStays) {
  TempDir dir;
  const std::string path = state_path_for(dir.path.string(), "s");
  write_state(path, "{\"n\":1}");
  const std::string huge = "{\"x\":\"" + std::string(kMaxStateBytes, 'a') + "\"}";
  try {
    write_state(path, huge);
    ADD_FAILURE() << "a state over the cap was written";
  } catch (const sluice::Error& e) {
    EXPECT_TRUE(e.retriable());  // a round's error, not the pipeline's end
    EXPECT_NE(std::string(e.what()).find("more than the 64 MB"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_state(path).value(), "{\"n\":1}");
}

// Two processes running the same pipeline's source on one state_dir would
// write one state file in turn; the second is refused at its start.
TEST(StateFile, ASecondLockOnOneStateFileIsRefusedUntilTheFirstIsGone) {
  TempDir dir;
  const std::string path = state_path_for(dir.path.string(), "s");
  {
    StateLock first(path);
    try {
      StateLock second(path);
      ADD_FAILURE() << "a second lock was granted";
    } catch (const sluice::Error& e) {
      EXPECT_NE(std::string(e.what()).find("in use by another running source"), std::string::npos) << e.what();
    }
  }
  EXPECT_NO_THROW(StateLock again(path));
}
