// Fuzz target: a checkpoint file, loaded by a small pipeline's trainer as resume does (checksum
// sidecar absent: the bytes go straight to the archive reader, the identity check and the
// per-tensor shape check). DamagedCheckpoint is a priorlab::Error.
#include "engine/trainer.hpp"
#include "fuzz_util.hpp"
#include "pipeline/pipeline.hpp"

namespace {
priorlab::host::Trainer& trainer() {
  using namespace priorlab;
  static host::Pipeline pipeline = [] {
    torch::set_num_threads(1);
    const auto raw = nlohmann::json::parse(R"({
      "name": "fuzz", "device": "cpu", "tensorboard": false,
      "dataset": {"plugin": "pendulum", "options": {"size": 100}},
      "network": {"plugin": "mlp", "options": {"latent_dim": 2, "hidden": [8]}},
      "prior": {"plugin": "vhp", "options": {"hidden": [8]}},
      "scheduler": {"plugin": "rewo", "options": {"threshold": 0.01}},
      "training": {"iterations": 10, "batch_size": 8}
    })");
    return host::build_pipeline(fuzz::registry(), host::resolve_pipeline(fuzz::registry(), raw, "fuzz.json", "fuzz"));
  }();
  static host::Trainer t(pipeline, (fuzz::scratch() / "run").string(), false);
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace priorlab;
  auto& t = trainer();
  const auto file = fuzz::scratch() / "run" / "checkpoints" / "step_00000010.pt";
  fuzz::write_bytes(file, data, size);
  return fuzz::expect_located([&] { t.load_checkpoint(file.string()); });
}
