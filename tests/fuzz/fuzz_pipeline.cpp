// Fuzz target: a pipeline file, parsed and validated as `priorlab validate` does (less the
// dataset, which the dataset targets cover): parse_json, then resolve_pipeline against the
// build tree's plugins.
#include "fuzz_util.hpp"
#include "pipeline/pipeline.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace priorlab;
  const std::string text(reinterpret_cast<const char*>(data), size);
  return fuzz::expect_located([&] {
    const auto raw = host::parse_json(text, "fuzz.json");
    const auto resolved = host::resolve_pipeline(fuzz::registry(), raw, "fuzz.json", "fuzz");
    (void)resolved.dump();
  });
}
