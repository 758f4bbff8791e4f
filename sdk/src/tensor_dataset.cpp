#include "priorlab/tensor_dataset.hpp"

#include <fmt/format.h>

#include "priorlab/error.hpp"

namespace priorlab {

std::int64_t TensorDataset::size(Split split) const {
  const auto& x = x_[static_cast<size_t>(split)];
  return x.defined() ? x.size(0) : 0;
}

void TensorDataset::set_split(Split split, torch::Tensor x, torch::Tensor labels) {
  if (labels.defined() && labels.size(0) != x.size(0))
    throw Error(to_string(split), fmt::format("{} examples but {} labels", x.size(0), labels.size(0)));
  x_[static_cast<size_t>(split)] = x.contiguous();
  labels_[static_cast<size_t>(split)] = labels.defined() ? labels.contiguous() : labels;
}

Batch TensorDataset::transform(Split, Batch batch, std::uint64_t) const { return batch; }

Batch TensorDataset::get(Split split, const torch::Tensor& indices, std::uint64_t draw_seed) const {
  const auto n = size(split);
  if (n == 0) throw Error(to_string(split), "this dataset has no such split");
  const auto idx = indices.to(torch::kLong);
  if (idx.numel() > 0) {
    const auto lo = idx.min().item<std::int64_t>(), hi = idx.max().item<std::int64_t>();
    if (lo < 0 || hi >= n)
      throw Error(to_string(split), fmt::format("index {} out of range [0, {})", lo < 0 ? lo : hi, n));
  }
  Batch b;
  b.x = x_[static_cast<size_t>(split)].index_select(0, idx);
  const auto& labels = labels_[static_cast<size_t>(split)];
  if (labels.defined()) b.label = labels.index_select(0, idx);
  return transform(split, std::move(b), draw_seed);
}

}  // namespace priorlab
