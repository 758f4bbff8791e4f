// Fuzz target, built once per dataset reader: the input becomes the file FUZZ_FILE of dataset
// plugin FUZZ_DATASET (options FUZZ_OPTIONS, JSON), which is then constructed as a run does.
//   IDX (mnist: train-images-idx3-ubyte), .amat (static_mnist), CSV (features_csv), MAT (omniglot).
#include "fuzz_util.hpp"
#include "priorlab/dataset.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace priorlab;
  const auto root = fuzz::scratch() / "data";
  fuzz::write_bytes(root / FUZZ_FILE, data, size);
  return fuzz::expect_located([&] {
    const auto& entry = fuzz::registry().find(FUZZ_DATASET, "dataset", "/dataset");
    BuildContext ctx;
    ctx.name = FUZZ_DATASET;
    ctx.path = "/dataset";
    ctx.options = Options(entry.options.resolve(nlohmann::json::parse(FUZZ_OPTIONS), "/dataset/options"), "/dataset/options");
    ctx.data_root = root.string();
    const auto dataset = fuzz::registry().create<Dataset>(ctx);
    (void)dataset->size(Split::Train);
  });
}
