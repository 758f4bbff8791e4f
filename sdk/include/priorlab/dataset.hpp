// Interface: a dataset with named splits, held in memory and served by index.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "priorlab/export.hpp"

namespace priorlab {

enum class Split { Train, Validation, Test };
PRIORLAB_API const char* to_string(Split split);

/// What every other component needs to know about the data.
struct DataInfo {
  std::vector<std::int64_t> shape;  ///< one example, e.g. {1, 16, 16} or {50}
  std::string label_name;           ///< "angle", "digit", ... or empty when there are no labels
  bool binary = false;              ///< examples are (or are drawn as) 0/1 values
  /// Number of values in one example (the product of shape): the "data dimension" that the
  /// per-dimension constraint measures divide by.
  std::int64_t dimension() const {
    std::int64_t d = 1;
    for (auto s : shape) d *= s;
    return d;
  }
};

/// A batch: x [B, *shape] float in the data's range; label [B] (float or long) or undefined.
struct Batch {
  torch::Tensor x;
  torch::Tensor label;
};

class PRIORLAB_API Dataset {
 public:
  static constexpr const char* kind = "dataset";
  virtual ~Dataset();

  /// Shape and labels of one example.
  virtual DataInfo info() const = 0;

  /// Number of examples in a split; 0 when the dataset has no such split.
  virtual std::int64_t size(Split split) const = 0;

  /// The examples `indices` ([B], long, CPU) of `split`, on the CPU. `draw_seed` seeds anything
  /// random about this draw (e.g. dynamic binarisation), so a batch is a pure function of
  /// (split, indices, draw_seed) and a resumed run draws exactly the same data.
  /// Throws Error when an index is out of range.
  virtual Batch get(Split split, const torch::Tensor& indices, std::uint64_t draw_seed) const = 0;
};

}  // namespace priorlab
