// Fuzz target: a sweep file, loaded and expanded as `priorlab sweep --dry-run` does.
#include "experiments/sweep.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace priorlab;
  const auto file = fuzz::scratch() / "sweep.json";
  fuzz::write_bytes(file, data, size);
  return fuzz::expect_located([&] { (void)host::load_sweep(file.string()); });
}
