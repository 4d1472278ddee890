#include "config/expand.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

namespace sluice {
namespace {

TEST(Expand, VariablesDefaultsAndLiterals) {
  ::setenv("SLUICE_T_HOST", "db.local", 1);
  ::unsetenv("SLUICE_T_MISSING");
  EXPECT_EQ(expand_variables("postgres://${SLUICE_T_HOST}:5432").value, "postgres://db.local:5432");
  EXPECT_EQ(expand_variables("${SLUICE_T_MISSING:-embedded}").value, "embedded");
  EXPECT_EQ(expand_variables("${SLUICE_T_HOST:-x}").value, "db.local");
  EXPECT_EQ(expand_variables("cost $$5 and $x").value, "cost $5 and $x");
}

TEST(Expand, UnsetVariableIsAnErrorNamingIt) {
  ::unsetenv("SLUICE_T_MISSING");
  Expanded e = expand_variables("x${SLUICE_T_MISSING}y");
  EXPECT_NE(e.error.find("`SLUICE_T_MISSING` is not set"), std::string::npos) << e.error;
  EXPECT_NE(expand_variables("${unterminated").error, "");
}

TEST(Expand, SecretFileTrimsOneNewlineAndIsMarkedSecret) {
  std::string path = ::testing::TempDir() + "/sluice_secret";
  std::ofstream(path) << "s3cret\n";
  Expanded e = expand_variables("password=${file:" + path + "}");
  EXPECT_EQ(e.value, "password=s3cret");
  EXPECT_TRUE(e.from_secret_file);
  Expanded missing = expand_variables("${file:/nonexistent/sluice}");
  EXPECT_NE(missing.error.find("/nonexistent/sluice"), std::string::npos);
}

TEST(Expand, SecretFileMustBeARegularFileOfBoundedSize) {
  Expanded device = expand_variables("${file:/dev/zero}");
  EXPECT_NE(device.error.find("`/dev/zero` is a character device"), std::string::npos) << device.error;
  std::string dir = ::testing::TempDir();
  Expanded directory = expand_variables("${file:" + dir + "}");
  EXPECT_NE(directory.error.find("is a directory"), std::string::npos) << directory.error;
  std::string big = ::testing::TempDir() + "/sluice_big_secret";
  std::ofstream(big) << std::string((1u << 20) + 1, 'x');
  Expanded huge = expand_variables("${file:" + big + "}");
  EXPECT_NE(huge.error.find("larger than 1 MiB"), std::string::npos) << huge.error;
}

}  // namespace
}  // namespace sluice
