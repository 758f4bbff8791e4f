// Evaluator "samples": a grid of decoder means of samples from the prior, z ~ p(z).
#include <cmath>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class Samples : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("count", 64).min(1).max(1024).help("samples drawn and shown"))
        .add(Option::integer("columns", 8).min(1).help("grid columns"))
        .add(Option::string("file", "samples.png").help("picture name under artefacts/"));
  }
  explicit Samples(const BuildContext& ctx) : o_(ctx.options) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    torch::NoGradGuard no_grad;
    EvalResult r;
    if (ctx.dataset->info().shape.size() != 3) throw Error("samples", "the data are not images ([C, H, W])");
    const auto z = ctx.prior->sample(o_.integer("count"));
    const auto images = ctx.network->mean(ctx.network->decode(z)).cpu();
    const auto side = images.size(-1);
    if (save_image_grid(artefact_path(ctx.artefact_dir, o_.string("file")), images, o_.integer("columns"),
                        side <= 32 ? 4 : 2))
      r.artefacts.push_back(o_.string("file"));
    r.metrics["count"] = static_cast<double>(images.size(0));
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, samples, Samples, "1.0.0", "grid of decoded prior samples")
