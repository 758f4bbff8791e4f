// Fuzz target: `--set` assignments. Each input line is one KEY.PATH=VALUE applied in turn to
// a valid pipeline, which is then resolved (an override may break it: a located Error).
#include <sstream>

#include "fuzz_util.hpp"
#include "pipeline/pipeline.hpp"

namespace {
const nlohmann::json& base() {
  static const nlohmann::json b = nlohmann::json::parse(R"({
    "name": "fuzz", "device": "cpu",
    "dataset": {"plugin": "pendulum", "options": {"size": 100}},
    "network": {"plugin": "mlp", "options": {"latent_dim": 2, "hidden": [8]}},
    "prior": {"plugin": "vhp", "options": {"hidden": [8]}},
    "scheduler": {"plugin": "rewo", "options": {"threshold": 0.01}},
    "training": {"iterations": 10},
    "evaluators": [{"plugin": "reconstruction"}]
  })");
  return b;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace priorlab;
  std::istringstream lines(std::string(reinterpret_cast<const char*>(data), size));
  return fuzz::expect_located([&] {
    nlohmann::json config = base();
    host::Provenance provenance;
    std::string line;
    while (std::getline(lines, line)) host::apply_override(config, line, &provenance);
    (void)host::resolve_pipeline(fuzz::registry(), config, "fuzz.json", "fuzz", &provenance).dump();
  });
}
