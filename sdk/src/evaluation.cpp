#include "priorlab/evaluation.hpp"

#include <algorithm>

#include "priorlab/error.hpp"

namespace priorlab {

Split evaluation_split(const Dataset& dataset) {
  if (dataset.size(Split::Test) > 0) return Split::Test;
  if (dataset.size(Split::Validation) > 0) return Split::Validation;
  return Split::Train;
}

Split parse_split(const Dataset& dataset, const std::string& name) {
  if (name == "auto") return evaluation_split(dataset);
  for (auto s : {Split::Train, Split::Validation, Split::Test})
    if (name == to_string(s)) {
      if (dataset.size(s) == 0) throw Error(name, "the dataset has no such split");
      return s;
    }
  throw Error(name, "expected auto, train, validation or test");
}

std::string artefact_path(const std::string& artefact_dir, const std::string& file) {
  const bool plain = !file.empty() && file.find('/') == std::string::npos && file != "." && file != "..";
  if (!plain || file.size() < 5 || file.compare(file.size() - 4, 4, ".png") != 0)
    throw Error("file", "expected a plain file name ending in .png, found \"" + file + "\"");
  return artefact_dir + "/" + file;
}

void for_each_batch(const Dataset& dataset, Split split, std::int64_t limit, std::int64_t batch_size,
                    const std::function<void(const Batch&, std::int64_t, std::int64_t)>& fn) {
  const auto n = dataset.size(split);
  const auto total = limit > 0 ? std::min(limit, n) : n;
  for (std::int64_t start = 0; start < total; start += batch_size) {
    const auto end = std::min(total, start + batch_size);
    const auto batch = dataset.get(split, torch::arange(start, end, torch::kLong), kEvaluationDrawSeed);
    fn(batch, end, total);
  }
}

}  // namespace priorlab
