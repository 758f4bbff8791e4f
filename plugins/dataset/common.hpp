// Shared by the dataset plugins that read files (mnist, fashion_mnist, static_mnist, omniglot,
// features_csv, image_folder): where a data file lives, a platform-independent permutation for
// fraction splits, and the binarisation of grey images for Bernoulli decoders.
//
// Header-only: each plugin library compiles its own copy
// (hidden visibility keeps the copies apart), so one binarisation code serves every image
// dataset without a library of its own.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <priorlab/sdk.hpp>

namespace priorlab::plugins {

/// The path in option `key`: absolute paths as given, relative ones below the pipeline's
/// data_root (so "mnist" means <data_root>/mnist, and a config names its data independently of
/// where data_root points).
inline std::string data_path(const BuildContext& ctx, const std::string& key) {
  std::filesystem::path p = ctx.options.string(key);
  if (p.is_relative() && !ctx.data_root.empty()) p = std::filesystem::path(ctx.data_root) / p;
  return p.lexically_normal().string();
}

/// splitmix64: a well-mixed 64-bit value from a seed and a stream number, so nearby seeds
/// (0, 1, 2, ...) give unrelated generators.
inline std::uint64_t mix_seed(std::uint64_t seed, std::uint64_t stream) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A permutation of 0..n-1 by Fisher-Yates on std::mt19937_64(seed): the sequence of
/// mt19937_64 is fixed by the standard (std::shuffle's use of it is not), so the permutation is
/// the same on every platform. j = rng() mod (i+1); the bias of the modulo is below 2^-40 for
/// any n that fits in memory.
inline std::vector<std::int64_t> permutation(std::int64_t n, std::uint64_t seed) {
  std::vector<std::int64_t> p(static_cast<size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) p[static_cast<size_t>(i)] = i;
  std::mt19937_64 rng(seed);
  for (std::int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(i + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

/// Sizes of a fraction split of n examples: test = round(n * test_fraction), validation =
/// round(n * validation_fraction), train = the rest, which must keep at least one example.
/// The order is train, validation, test over the (possibly permuted) examples.
struct FractionSplit {
  std::int64_t train = 0, validation = 0, test = 0;

  static FractionSplit of(std::int64_t n, double test_fraction, double validation_fraction,
                          const std::string& options_path) {
    FractionSplit s;
    s.test = std::llround(static_cast<double>(n) * test_fraction);
    s.validation = std::llround(static_cast<double>(n) * validation_fraction);
    s.train = n - s.test - s.validation;
    if (s.train < 1)
      throw Error(options_path + "/test_fraction",
                  fmt::format("test_fraction + validation_fraction leave no training examples of {} ({} test, {} "
                              "validation)",
                              n, s.test, s.validation));
    return s;
  }
};

/// How grey values p in [0, 1] become the 0/1 values a Bernoulli decoder models.
///   dynamic:   train x ~ Bernoulli(p) afresh on every draw, seeded by the draw's draw_seed;
///              validation and test drawn once at load time from binarise_seed (the dynamic
///              MNIST protocol of the VampPrior and IWAE papers).
///   fixed:     every split drawn once at load time from binarise_seed.
///   threshold: x = 1 where p > 0.5, else 0, every split.
///   none:      the grey values themselves.
enum class Binarisation { Dynamic, Fixed, Threshold, None };

/// Bernoulli draws x = [u < t(p)], u a uniform 32-bit integer and t(p) = floor(p 2^32), so
/// P(x = 1) = p to within 2^-32 (p = 0 never gives 1, p = 1 always does). For 8-bit grey levels
/// t(k/255) = floor(k 2^32 / 255) is exact in integers. u comes from splitmix64 (Steele, Lea &
/// Flood 2014) seeded with `seed`, two 32-bit halves per output: integer arithmetic only, so a
/// draw is the same on every platform and LibTorch version, at about 1 ns a pixel.
class BernoulliStream {
 public:
  explicit BernoulliStream(std::uint64_t seed) : state_(seed) {}

  /// One draw for the 8-bit grey level k (p = k/255).
  bool grey(std::uint8_t level) { return uniform32() < grey_thresholds()[level]; }
  /// One draw for probability p (clamped to [0, 1]).
  bool probability(float p) {
    return uniform32() < static_cast<std::uint64_t>(std::clamp(static_cast<double>(p), 0.0, 1.0) * 4294967296.0);
  }

 private:
  static const std::array<std::uint64_t, 256>& grey_thresholds() {
    static const std::array<std::uint64_t, 256> t = [] {
      std::array<std::uint64_t, 256> a{};
      for (std::uint64_t k = 0; k < 256; ++k) a[k] = (k << 32) / 255;  // a[255] = 2^32: always 1
      return a;
    }();
    return t;
  }

  std::uint64_t uniform32() {
    if (half_) {
      half_ = false;
      return bits_ >> 32;
    }
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    bits_ = z ^ (z >> 31);
    half_ = true;
    return bits_ & 0xffffffffULL;
  }

  std::uint64_t state_, bits_ = 0;
  bool half_ = false;
};

/// A Dataset of images kept compact in memory: grey levels as uint8 (level k means p = k/255),
/// 0/1 codes as uint8, or float probabilities where the file holds reals. get() gathers the
/// requested examples straight into the float batch in one serial pass, converting (and, for a
/// dynamically binarised split, drawing x ~ Bernoulli(p)) on the way: no intermediate tensors,
/// no parallel regions (which under a loaded CPU cost more than the work), about 0.2 ms for 100
/// MNIST images.
class ImageDataset : public TensorDataset {
 public:
  /// Declares `binarise` (with the plugin's default mode) and `binarise_seed`.
  static OptionSet& declare_binarisation(OptionSet& set, const std::string& default_mode) {
    set.add(
        Option::string("binarise", default_mode)
            .choices({"dynamic", "fixed", "threshold", "none"})
            .help("dynamic: train re-drawn x ~ Bernoulli(p) on every draw, validation/test drawn once; fixed: every "
                  "split drawn once; threshold: p > 0.5; none: grey values in [0, 1]"));
    set.add(
        Option::integer("binarise_seed", 0)
            .min(0)
            .help("seed of the binarisation drawn once at load time (validation and test; every split with fixed)"));
    return set;
  }

  /// x [B, *shape] float in [0, 1] and the labels of `indices`; dynamically binarised splits
  /// draw from a stream seeded by draw_seed alone (in the order of the batch), so the batch is
  /// a pure function of (split, indices, draw_seed).
  Batch get(Split split, const torch::Tensor& indices, std::uint64_t draw_seed) const override {
    const auto s = static_cast<size_t>(split);
    const auto& x = x_[s];
    if (!x.defined()) throw Error(to_string(split), "this dataset has no such split");
    const auto idx = indices.to(torch::kLong).contiguous();
    const auto* ip = idx.data_ptr<std::int64_t>();
    const auto n = x.size(0), batch = idx.numel(), d = x.numel() / std::max<std::int64_t>(n, 1);
    for (std::int64_t b = 0; b < batch; ++b)
      if (ip[b] < 0 || ip[b] >= n)
        throw Error(to_string(split), fmt::format("index {} out of range [0, {})", ip[b], n));
    auto shape = x.sizes().vec();
    shape[0] = batch;
    Batch out;
    out.x = torch::empty(shape, torch::kFloat);
    float* o = out.x.data_ptr<float>();
    BernoulliStream rng(draw_seed);
    const float scale = scale_[s];
    if (x.scalar_type() == torch::kUInt8) {
      const std::uint8_t* src = x.data_ptr<std::uint8_t>();
      for (std::int64_t b = 0; b < batch; ++b, o += d) {
        const std::uint8_t* row = src + ip[b] * d;
        if (dynamic_[s] && scale == kGreyLevel)
          for (std::int64_t j = 0; j < d; ++j) o[j] = rng.grey(row[j]) ? 1.0F : 0.0F;
        else if (dynamic_[s])
          for (std::int64_t j = 0; j < d; ++j) o[j] = rng.probability(static_cast<float>(row[j]) * scale) ? 1.0F : 0.0F;
        else
          for (std::int64_t j = 0; j < d; ++j) o[j] = static_cast<float>(row[j]) * scale;
      }
    } else {
      const float* src = x.data_ptr<float>();
      for (std::int64_t b = 0; b < batch; ++b, o += d) {
        const float* row = src + ip[b] * d;
        if (dynamic_[s])
          for (std::int64_t j = 0; j < d; ++j) o[j] = rng.probability(row[j] * scale) ? 1.0F : 0.0F;
        else
          for (std::int64_t j = 0; j < d; ++j) o[j] = row[j] * scale;
      }
    }
    if (labels_[s].defined()) out.label = labels_[s].index_select(0, idx);
    return out;
  }

 protected:
  /// Reads the options declared by declare_binarisation().
  explicit ImageDataset(const Options& o)
      : ImageDataset(parse_mode(o.string("binarise")), static_cast<std::uint64_t>(o.integer("binarise_seed"))) {}
  ImageDataset(Binarisation mode, std::uint64_t seed) : mode_(mode), seed_(seed) {}

  /// The scale of 8-bit grey levels: level k is the probability k/255.
  static constexpr float kGreyLevel = 1.0F / 255.0F;

  /// Sets a split from x [N, *shape] (uint8 or float) whose values times `scale` are the
  /// probabilities p in [0, 1] (kGreyLevel for 8-bit grey levels, 1 for 0/1 codes or reals);
  /// labels [N] or undefined. Binarises once here unless the mode keeps the grey values (none,
  /// and the training split under dynamic). info_.binary follows the mode.
  void set_images(Split split, torch::Tensor x, torch::Tensor labels, float scale) {
    const auto s = static_cast<size_t>(split);
    if (x.scalar_type() != torch::kUInt8) x = x.to(torch::kFloat);
    x = x.contiguous();
    info_.binary = mode_ != Binarisation::None;
    dynamic_[s] = false;
    scale_[s] = scale;
    switch (mode_) {
      case Binarisation::None:
        break;
      case Binarisation::Dynamic:
        if (split == Split::Train) {
          dynamic_[s] = true;
          break;
        }
        [[fallthrough]];
      case Binarisation::Fixed: {
        // One stream per split, so validation and test are independent draws; the same
        // conversion as a dynamic draw (get() of the whole split), kept as 0/1 codes.
        x_[s] = x;
        dynamic_[s] = true;
        x = get(split, torch::arange(x.size(0), torch::kLong), mix_seed(seed_, s)).x.to(torch::kUInt8);
        dynamic_[s] = false;
        scale_[s] = 1.0F;
        break;
      }
      case Binarisation::Threshold:
        x = (x.to(torch::kFloat) * scale).gt(0.5).to(torch::kUInt8);
        scale_[s] = 1.0F;
        break;
    }
    x_[s] = x;
    labels_[s] = labels.defined() ? labels.contiguous() : labels;
    set_split(split, x_[s], labels_[s]);  // TensorDataset keeps the sizes (the storage is shared)
  }

 private:
  static Binarisation parse_mode(const std::string& m) {
    if (m == "dynamic") return Binarisation::Dynamic;
    if (m == "fixed") return Binarisation::Fixed;
    if (m == "threshold") return Binarisation::Threshold;
    return Binarisation::None;
  }

  Binarisation mode_;
  std::uint64_t seed_;
  std::array<torch::Tensor, 3> x_, labels_;
  std::array<float, 3> scale_{1.0F, 1.0F, 1.0F};
  std::array<bool, 3> dynamic_{false, false, false};
};

}  // namespace priorlab::plugins
