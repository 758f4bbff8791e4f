// A Dataset held as tensors in memory: the base of every dataset plugin that loads or
// generates its data up front. Serving a batch is one index_select per tensor.
#pragma once

#include <array>

#include "priorlab/dataset.hpp"
#include "priorlab/export.hpp"

namespace priorlab {

class PRIORLAB_API TensorDataset : public Dataset {
 public:
  DataInfo info() const override { return info_; }
  std::int64_t size(Split split) const override;
  /// index_select of the split's examples (and labels); indices are checked against the size.
  /// Subclasses that randomise draws (dynamic binarisation) override transform().
  Batch get(Split split, const torch::Tensor& indices, std::uint64_t draw_seed) const override;

 protected:
  /// x [N, *shape] float; labels [N] or undefined.
  void set_split(Split split, torch::Tensor x, torch::Tensor labels);
  /// Applied to every drawn batch; the default returns it unchanged.
  virtual Batch transform(Split split, Batch batch, std::uint64_t draw_seed) const;
  DataInfo info_;

 private:
  std::array<torch::Tensor, 3> x_, labels_;
};

}  // namespace priorlab
