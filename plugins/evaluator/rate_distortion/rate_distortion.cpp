// Evaluator "rate_distortion" (Fig. 20 of the paper): the test split's rate
// R = E[log q(z|x) - log p(z)], distortion D = E[-log p(x|z)] and their sum (the negative ELBO)
// in nats per example, and a picture placing this run among every run of its folder that has a
// summary.json with the same numbers (so running it last in each of a set of runs builds the
// comparison up).
#include <filesystem>
#include <fstream>

#include <priorlab/sdk.hpp>

namespace fs = std::filesystem;

namespace {

using namespace priorlab;

class RateDistortion : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("which split"))
        .add(Option::integer("limit", 0).min(0).help("examples used (0: the whole split)"))
        .add(Option::integer("batch_size", 500).min(1).help("examples per forward pass"))
        .add(Option::string("file", "rate_distortion.png").help("picture name under artefacts/"));
  }
  explicit RateDistortion(const BuildContext& ctx) : o_(ctx.options) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    const AverageTerms t =
        average_terms(ctx, parse_split(*ctx.dataset, o_.string("split")), o_.integer("limit"), o_.integer("batch_size"));
    EvalResult r;
    r.metrics = {{"rate", t.rate}, {"distortion", t.distortion}, {"negative_elbo", t.rate + t.distortion},
                 {"examples", static_cast<double>(t.examples)}};

    // This run and its siblings: every <folder>/<run>/summary.json with rate_distortion metrics.
    const fs::path self = fs::path(ctx.run_dir);
    std::vector<double> xy{t.rate, t.distortion};
    std::vector<std::string> names{self.filename().string()};
    std::error_code ec;
    if (!ctx.run_dir.empty() && fs::is_directory(self.parent_path(), ec)) {
      for (const auto& e : fs::directory_iterator(self.parent_path(), ec)) {
        if (!e.is_directory() || e.path() == self) continue;
        std::ifstream in(e.path() / "summary.json");
        if (!in) continue;
        try {
          const auto m = nlohmann::json::parse(in).at("evaluators").at("rate_distortion");
          xy.push_back(m.at("rate").get<double>());
          xy.push_back(m.at("distortion").get<double>());
          names.push_back(e.path().filename().string());
        } catch (const std::exception&) {
          continue;  // a run without these metrics, or a summary still being written elsewhere
        }
      }
    }
    r.metrics["runs_plotted"] = static_cast<double>(names.size());
    ScatterSeries s{torch::tensor(xy, torch::kDouble).view({-1, 2}), torch::Tensor(), "x: rate (nats), y: distortion (nats)",
                    false, 4, names, {}, {}};
    const std::string title = "rate and distortion of the runs in " + self.parent_path().filename().string();
    if (save_scatter_panels(artefact_path(ctx.artefact_dir, o_.string("file")), {s}, title))
      r.artefacts.push_back(o_.string("file"));
    return r;
  }

 private:
  Options o_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, rate_distortion, RateDistortion, "1.0.0",
                "Fig. 20: test rate, distortion and their sum; this run beside the other runs of its folder")
