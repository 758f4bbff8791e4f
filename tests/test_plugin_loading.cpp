// Plugin discovery and the ABI handshake: good libraries load, each kind of bad library is
// refused with a message naming what it had and what the host expected, and plugin
// exceptions surface as one Error naming the plugin.
#include <gtest/gtest.h>

#include "test_util.hpp"

using namespace priorlab;
using namespace priorlab::host;

namespace {

std::string lib(const std::string& sub, const std::string& name) {
  return std::string(PRIORLAB_TEST_PLUGIN_DIR) + "/" + sub + "/libpriorlab_" + name + ".so";
}

std::string refusal_of(const std::string& path) {
  Registry r;
  EXPECT_FALSE(r.load_library(path));
  EXPECT_TRUE(r.plugins().empty());
  return r.refusals().empty() ? "" : r.refusals().front();
}

}  // namespace

TEST(PluginLoading, BuildTreeHasAtLeastNinePluginsOfFiveKinds) {
  const auto& reg = test::registry();
  std::set<std::string> kinds;
  for (const auto& p : reg.plugins()) kinds.insert(p.kind);
  EXPECT_GE(reg.plugins().size(), 9u);
  EXPECT_GE(kinds.size(), 5u);
  EXPECT_TRUE(reg.refusals().empty()) << reg.refusals().front();
  EXPECT_EQ(reg.find("pendulum", "dataset", "/dataset").kind, "dataset");
}

TEST(PluginLoading, GoodTestLibraryHoldsTwoPlugins) {
  Registry r;
  ASSERT_TRUE(r.load_library(lib("good", "test_good")));
  ASSERT_EQ(r.plugins().size(), 2u);
  EXPECT_NE(r.find_any("nan_after"), nullptr);
  EXPECT_EQ(r.find_any("throwing")->kind, "prior");
  EXPECT_EQ(r.find_any("nan_after")->options.find("after")->default_value(), 5);
}

TEST(PluginLoading, WrongAbiVersionIsRefusedNamingBothVersions) {
  const auto why = refusal_of(lib("bad/abi", "test_bad_abi"));
  EXPECT_NE(why.find("built for plugin ABI 99, this host speaks ABI " + std::to_string(PRIORLAB_ABI_VERSION)), std::string::npos) << why;
  EXPECT_NE(why.find("libpriorlab_test_bad_abi.so"), std::string::npos) << why;
}

TEST(PluginLoading, WrongRecordSizeIsRefused) {
  const auto why = refusal_of(lib("bad/size", "test_bad_size"));
  EXPECT_NE(why.find(fmt::format("record is {} bytes", sizeof(priorlab_library_info_v1) + 8)), std::string::npos) << why;
}

TEST(PluginLoading, OtherLibTorchVersionIsRefused) {
  const auto why = refusal_of(lib("bad/torch", "test_bad_torch"));
  EXPECT_NE(why.find("built against LibTorch 0.4.1, the host uses LibTorch " TORCH_VERSION), std::string::npos) << why;
}

TEST(PluginLoading, OtherCxxAbiFlagIsRefused) {
  const auto why = refusal_of(lib("bad/cxxabi", "test_bad_cxxabi"));
  EXPECT_NE(why.find("_GLIBCXX_USE_CXX11_ABI=0, the host with 1"), std::string::npos) << why;
}

// Issue 16, case 8: a plugin really built with _GLIBCXX_USE_CXX11_ABI=0 (see
// tests/plugins/CMakeLists.txt) used to kill the host with "symbol lookup error" (exit 127),
// because the library was bound lazily and its static registrar called SDK functions taking
// std::string. Immediate binding makes it a refusal naming the symbol.
TEST(PluginLoading, Case8_APluginBuiltWithTheOtherCxxAbiIsRefusedNotFatal) {
  const auto why = refusal_of(lib("bad/oldabi", "test_bad_oldabi"));
  EXPECT_NE(why.find("libpriorlab_test_bad_oldabi.so: could not load: undefined symbol: _ZN"), std::string::npos) << why;
  EXPECT_NE(why.find("(built against another SDK or C++ ABI?)"), std::string::npos) << why;
  // The missing symbol is the SDK's: under the new ABI, functions whose types hold std::string
  // carry "[abi:cxx11]" (B5cxx11) in their names, under the old one std::string is "Ss".
  EXPECT_NE(why.find("undefined symbol: _ZN"), std::string::npos) << why;
  EXPECT_NE(why.find("8priorlab"), std::string::npos) << why;
  // Every command that discovers plugins still works with that library on the plugin path.
  const std::string dir = std::string(PRIORLAB_TEST_PLUGIN_DIR) + "/bad/oldabi";
  const auto listed = test::run_cli("plugins --plugin-path " + dir);
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("undefined symbol"), std::string::npos) << listed.output;
  EXPECT_EQ(test::run_cli("describe vhp --plugin-path " + dir).exit_code, 0);
}

// Registration runs no SDK code while the library loads: options() is asked for after the
// handshake, so one that throws is a refusal (it used to be std::terminate inside dlopen).
TEST(PluginLoading, Case8_OptionsAreBuiltAfterTheHandshakeAndAThrowIsARefusal) {
  const auto why = refusal_of(lib("bad/options", "test_bad_options"));
  EXPECT_NE(why.find("plugin 'nan_after_bad_options': building its option declaration threw: options() failed (test)"),
            std::string::npos)
      << why;
}

TEST(PluginLoading, NullHandshakeIsRefused) {
  EXPECT_NE(refusal_of(lib("bad/nullinfo", "test_bad_nullinfo")).find("handshake returned nothing"), std::string::npos);
}

TEST(PluginLoading, LibraryWithoutEntryPointIsRefused) {
  const auto why = refusal_of(lib("bad/noentry", "test_bad_noentry"));
  EXPECT_NE(why.find("entry point 'priorlab_library_info' not found"), std::string::npos) << why;
}

TEST(PluginLoading, MissingFileIsRefusedNotFatal) {
  const auto why = refusal_of("/nonexistent/libpriorlab_nothing.so");
  EXPECT_NE(why.find("could not load"), std::string::npos) << why;
}

TEST(PluginLoading, DiscoverySkipsRefusedLibrariesAndKeepsTheRest) {
  Registry r;
  r.discover({std::string(PRIORLAB_TEST_PLUGIN_DIR) + "/bad/abi", std::string(PRIORLAB_TEST_PLUGIN_DIR) + "/good",
              "/nonexistent-dir"});
  EXPECT_EQ(r.plugins().size(), 2u);
  ASSERT_EQ(r.refusals().size(), 1u);
  // Asking for the refused plugin explains why it is not there.
  try {
    r.find("nan_after_abi99", "objective", "/objective/plugin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown objective 'nan_after_abi99' (available: nan_after"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("ABI 99"), std::string::npos) << e.what();
  }
}

TEST(PluginLoading, ThrowingConstructorBecomesOneErrorNamingThePlugin) {
  Registry r;
  ASSERT_TRUE(r.load_library(lib("good", "test_good")));
  BuildContext ctx;
  ctx.name = "throwing";
  ctx.path = "/prior";
  ctx.options = Options(r.find_any("throwing")->options.resolve(json(), "/prior/options"), "/prior/options");
  try {
    r.create<Prior>(ctx);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "plugin 'throwing': /prior/options: refusing to be built (test)");
  }
  ctx.options = Options(json{{"sdk_error", false}}, "/prior/options");
  try {
    r.create<Prior>(ctx);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "plugin 'throwing': a plain std::runtime_error from a constructor (test)");
  }
}

TEST(PluginLoading, CreatedObjectsKeepTheirLibraryLoaded) {
  const auto& entry = test::registry().find("gaussian", "prior", "/prior");
  const auto before = entry.library.use_count();
  BuildContext ctx;
  ctx.latent_dim = 3;
  {
    auto prior = test::make<Prior>("gaussian", json::object(), ctx);
    EXPECT_EQ(entry.library.use_count(), before + 1);
    EXPECT_EQ(prior->sample(4).sizes(), (std::vector<int64_t>{4, 3}));
  }
  EXPECT_EQ(entry.library.use_count(), before);
}

TEST(PluginLoading, WrongKindIsAnErrorNamingBothKinds) {
  try {
    test::registry().find("pendulum", "prior", "/prior/plugin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/prior/plugin: plugin 'pendulum' is of kind 'dataset', expected kind 'prior'"), std::string::npos)
        << e.what();
  }
}
