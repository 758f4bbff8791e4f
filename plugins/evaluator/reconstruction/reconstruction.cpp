// Evaluator "reconstruction": test-split reconstruction error and ELBO, and a PNG of inputs
// (odd rows) against their reconstructions from the posterior mean (even rows).
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class ReconstructionEvaluator : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("which split (auto: test if present)"))
        .add(Option::integer("limit", 0).min(0).help("examples evaluated (0: the whole split)"))
        .add(Option::integer("batch_size", 500).min(1).help("examples per forward pass"))
        .add(Option::integer("pictures", 16).min(1).max(256).help("examples shown in reconstruction.png"));
  }
  explicit ReconstructionEvaluator(const BuildContext& ctx) : o_(ctx.options) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    torch::NoGradGuard no_grad;
    const Split split = parse_split(*ctx.dataset, o_.string("split"));
    const double dim = static_cast<double>(ctx.dataset->info().dimension());
    const AverageTerms t = average_terms(ctx, split, o_.integer("limit"), o_.integer("batch_size"), 0.5);
    // Deterministic reconstruction through the posterior mean.
    double sq_mean = 0;
    for_each_shard_batch(ctx, split, o_.integer("limit"), o_.integer("batch_size"),
                         [&](const Batch& b, std::int64_t done, std::int64_t total) {
                           const auto x = ctx.model_input(b.x);
                           const auto recon = ctx.network->mean(ctx.network->decode(ctx.network->encode(x).mu));
                           sq_mean += (x - recon).pow(2).flatten(1).sum(1).sum().item<double>();
                           ctx.progress(0.5 + 0.5 * done / total, "reconstructing");
                         });
    sq_mean = ctx.sum_over_ranks(torch::tensor({sq_mean}, torch::kDouble)).item<double>();
    const double count = static_cast<double>(t.examples);
    EvalResult r;
    r.metrics = {{"elbo", -(t.distortion + t.rate)},
                 {"distortion", t.distortion},
                 {"rate", t.rate},
                 {"nll_per_dim", t.distortion / dim},
                 {"squared_error_per_dim", t.squared_error / dim},
                 {"mean_squared_error_per_dim", sq_mean / count / dim},
                 {"examples", count}};

    // Picture: rows of 8 inputs followed by their reconstructions.
    const auto n = std::min<std::int64_t>(o_.integer("pictures"), ctx.dataset->size(split));
    const auto x = ctx.model_input(ctx.dataset->get(split, torch::arange(n, torch::kLong), kEvaluationDrawSeed).x);
    const auto recon = ctx.network->mean(ctx.network->decode(ctx.network->encode(x).mu));
    const std::int64_t cols = 8;
    std::vector<torch::Tensor> rows;
    for (std::int64_t s = 0; s < n; s += cols) {
      // A short last row is padded with blank tiles so inputs and reconstructions stay paired.
      auto pad = [&](const torch::Tensor& t) {
        const auto part = t.slice(0, s, std::min(n, s + cols));
        if (part.size(0) == cols) return part;
        auto shape = part.sizes().vec();
        shape[0] = cols - part.size(0);
        return torch::cat({part, torch::zeros(shape, part.options())});
      };
      rows.push_back(pad(x));
      rows.push_back(pad(recon));
    }
    if (x.dim() == 4 && (x.size(1) == 1 || x.size(1) == 3)) {
      if (save_image_grid(artefact_path(ctx.artefact_dir, "reconstruction.png"), torch::cat(rows).cpu(), cols, x.size(-1) <= 32 ? 6 : 2))
        r.artefacts.push_back("reconstruction.png");
    }
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, reconstruction, ReconstructionEvaluator, "1.0.0",
                "test ELBO, rate, distortion, reconstruction error; PNG of inputs vs reconstructions")
