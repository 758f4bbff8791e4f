// Dataset "pendulum": 16x16 images of a pendulum at an angle drawn uniformly from [0, 2 pi),
// generated deterministically from a seed (DESIGN.md §5); the angle is kept as the label.
#include <cmath>
#include <cstdint>
#include <random>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class PendulumDataset : public TensorDataset {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("size", 15000).min(2).help("images in total (train + test)"))
        .add(Option::real("test_fraction", 0.1).greater_than(0).max(0.9).help("share of images held out as the test split"))
        .add(Option::integer("image_size", 16).min(8).max(128).help("side length in pixels"))
        .add(Option::integer("seed", 0).min(0).help("generator seed (independent of the pipeline's seed)"))
        .add(Option::real("noise", 0.0).min(0).max(1).help("std of Gaussian pixel noise added once, clipped to [0, 1]"));
  }

  explicit PendulumDataset(const BuildContext& ctx) {
    const auto& o = ctx.options;
    const auto n = o.integer("size");
    const auto side = o.integer("image_size");
    const auto test = std::max<std::int64_t>(1, static_cast<std::int64_t>(std::llround(n * o.real("test_fraction"))));
    if (test >= n) throw Error(o.path() + "/test_fraction", "leaves no training images");
    auto [images, angles] = generate(n, side, static_cast<std::uint64_t>(o.integer("seed")), o.real("noise"));
    info_.shape = {1, side, side};
    info_.label_name = "angle";
    info_.binary = false;
    set_split(Split::Train, images.slice(0, 0, n - test), angles.slice(0, 0, n - test));
    set_split(Split::Test, images.slice(0, n - test), angles.slice(0, n - test));
  }

  /// Renders `n` pendulums: a rod from the image centre to a round bob, anti-aliased by 4x4
  /// supersampling. angle 0 points down, increasing counter-clockwise.
  static std::pair<torch::Tensor, torch::Tensor> generate(std::int64_t n, std::int64_t side, std::uint64_t seed,
                                                          double noise) {
    std::mt19937_64 rng(seed);
    auto uniform = [&] { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };  // [0, 1), platform-independent
    auto images = torch::zeros({n, 1, side, side});
    auto angles = torch::zeros({n});
    float* img = images.data_ptr<float>();
    float* ang = angles.data_ptr<float>();
    const double c = 0.5 * side, length = 0.36 * side, bob = 0.12 * side, rod = 0.045 * side;
    const int ss = 4;
    for (std::int64_t i = 0; i < n; ++i) {
      const double theta = 2 * M_PI * uniform();
      ang[i] = static_cast<float>(theta);
      const double ex = c + length * std::sin(theta), ey = c + length * std::cos(theta);
      for (std::int64_t py = 0; py < side; ++py)
        for (std::int64_t px = 0; px < side; ++px) {
          int inside = 0;
          for (int sy = 0; sy < ss; ++sy)
            for (int sx = 0; sx < ss; ++sx) {
              const double x = px + (sx + 0.5) / ss, y = py + (sy + 0.5) / ss;
              // Distance to the rod segment from (c, c) to (ex, ey).
              const double vx = ex - c, vy = ey - c, t = std::clamp(((x - c) * vx + (y - c) * vy) / (vx * vx + vy * vy), 0.0, 1.0);
              const double dx = x - (c + t * vx), dy = y - (c + t * vy);
              const bool on_rod = dx * dx + dy * dy <= rod * rod;
              const bool on_bob = (x - ex) * (x - ex) + (y - ey) * (y - ey) <= bob * bob;
              inside += on_rod || on_bob;
            }
          img[(i * side + py) * side + px] = static_cast<float>(inside) / (ss * ss);
        }
    }
    if (noise > 0) {
      auto gen = at::detail::createCPUGenerator(seed ^ 0x6e6f697365ULL);
      images = (images + noise * at::normal(0.0, 1.0, images.sizes(), gen)).clamp(0, 1);
    }
    return {images, angles};
  }
};

}  // namespace

PRIORLAB_PLUGIN(Dataset, pendulum, PendulumDataset, "1.0.0", "pendulum images (16x16 by default), angle uniform in [0, 2pi), label = angle")
