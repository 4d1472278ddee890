// The handshake's version rule, with the test plugins of
// tests/plugin_example (built against this tree's header: ABI 2.0) loaded
// by hosts that speak other versions. A host of 2.1 is played by passing
// the loader that version and a table that grew a member at its end, as
// the next minor version's would.
#include "plugin/so_loader.h"

#include <gtest/gtest.h>

#include "plugin/c_abi_types.h"
#include "plugin/registry.h"

namespace sluice {
namespace {

const std::string kGood = SLUICE_TEST_PLUGIN_DIR "/good/";
const std::string kBad = SLUICE_TEST_PLUGIN_DIR "/bad/";

// The table of a host one minor version on: 2.0's, then a function 2.0 lacks.
struct NextMinorTable {
  sluice_host_api base;
  int (*added_in_next_minor)(void);
};

int added() { return 1; }

HostAbi next_minor_host(NextMinorTable& table) {
  table.base = *host_api();
  table.base.abi_version = SLUICE_ABI_MAKE_VERSION(SLUICE_ABI_VERSION_MAJOR, SLUICE_ABI_VERSION_MINOR + 1);
  table.base.struct_size = sizeof(NextMinorTable);
  table.added_in_next_minor = added;
  return {table.base.abi_version, &table.base};
}

TEST(SoLoader, PluginsBuiltAgainst20LoadInAHostOf21) {
  static NextMinorTable table;  // plugins keep the table while loaded
  HostAbi host = next_minor_host(table);
  ASSERT_EQ(SLUICE_ABI_VERSION_MINOR, 0) << "update the versions this test names";
  PluginRegistry registry;
  EXPECT_EQ(load_shared_plugin(registry, kGood + "counter_source.so", host), "");
  EXPECT_EQ(load_shared_plugin(registry, kGood + "upper_sink.so", host), "");
  const PluginInfo* counter = registry.find(PluginKind::source, "counter");
  ASSERT_NE(counter, nullptr);
  EXPECT_EQ(counter->options.size(), 2u);
  const PluginInfo* upper = registry.find(PluginKind::sink, "upper");
  ASSERT_NE(upper, nullptr);
  EXPECT_TRUE(upper->probe_connect != nullptr);
}

TEST(SoLoader, APluginNeedingANewerMinorIsRefusedNamingBothVersions) {
  static NextMinorTable table;
  PluginRegistry registry;
  EXPECT_EQ(load_shared_plugin(registry, kBad + "newer_minor.so", next_minor_host(table)),
            "needs plugin ABI 2.2, this sluice speaks 2.1");
  EXPECT_EQ(load_shared_plugin(registry, kBad + "newer_minor.so", this_host_abi()),
            "needs plugin ABI 2.1, this sluice speaks 2.0");
  EXPECT_TRUE(registry.all().empty());
}

TEST(SoLoader, AnotherMajorIsRefusedNamingBothVersions) {
  static NextMinorTable table;
  PluginRegistry registry;
  EXPECT_EQ(load_shared_plugin(registry, kBad + "wrong_abi.so", next_minor_host(table)),
            "built for plugin ABI 1.x, this sluice speaks 2.1");
  EXPECT_EQ(load_shared_plugin(registry, kBad + "wrong_abi.so", this_host_abi()),
            "built for plugin ABI 1.x, this sluice speaks 2.0");
}

TEST(SoLoader, APluginMayRefuseAHostOfAnotherMajor) {
  sluice_host_api table = *host_api();
  table.abi_version = SLUICE_ABI_MAKE_VERSION(3, 0);
  PluginRegistry registry;
  EXPECT_EQ(load_shared_plugin(registry, kGood + "counter_source.so", {table.abi_version, &table}),
            "its entry point returned no descriptor: it refused a host of plugin ABI 3.0 "
            "(as a plugin built for another major version does)");
}

TEST(SoLoader, HasMemberTellsWhatTheOtherSideKnew) {
  NextMinorTable table;
  next_minor_host(table);
  sluice_host_api older = *host_api();
  older.struct_size = offsetof(sluice_host_api, probe_line);  // as if probes came later
  EXPECT_TRUE(SLUICE_HAS_MEMBER(&table.base, sluice_host_api, probe_timeout_ms));
  EXPECT_TRUE(SLUICE_HAS_MEMBER(&older, sluice_host_api, offsets_set));
  EXPECT_FALSE(SLUICE_HAS_MEMBER(&older, sluice_host_api, probe_line));
}

}  // namespace
}  // namespace sluice
