// Evaluator "training_curves": the run's metrics.jsonl as a picture (like Fig. 2, right):
// beta (log scale), the constraint C_hat_t against its threshold kappa^2, and rate and
// distortion against the step. For a constrained scheduler it also reports the two figures that
// say whether the constraint acted: the share of main-phase steps in which it bound
// (binding_share: C_hat >= threshold) and the first step at which beta came within 1e-3 of 1
// (beta_one_step; absent when it never did), as the scheduler counted them every
// step and logged them with the last metrics line. Where the run logged the collapse
// diagnostics, it draws each stochastic layer: the rate of z, the KL of every layer above z
// (VHP: KL(q(zeta|z) || p(zeta))) and the active units of each.
#include <algorithm>
#include <fstream>
#include <set>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

class TrainingCurvesEvaluator : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}.add(Option::string("file", "training_curves.png").help("picture name under artefacts/"));
  }
  explicit TrainingCurvesEvaluator(const BuildContext& ctx) : file_(ctx.options.string("file")) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    const std::string path = ctx.run_dir + "/metrics.jsonl";
    std::ifstream in(path);
    if (!in) throw Error(path, "cannot read the run's metrics");
    std::map<std::string, std::vector<double>> series;
    std::vector<double> steps;
    std::string line;
    std::int64_t number = 0;
    double initial_end = -1;  // the first logged step after REWO's initial phase (to log_every)
    bool saw_initial = false;
    while (std::getline(in, line)) {
      ++number;
      nlohmann::json m;
      try {
        m = nlohmann::json::parse(line);
      } catch (const std::exception& e) {
        throw Error(path + ":" + std::to_string(number), std::string("malformed metrics line: ") + e.what());
      }
      steps.push_back(m.at("step").get<double>());
      for (const auto& [k, v] : m.items())
        if (v.is_number()) series[k].push_back(v.get<double>());
      const bool initial = m.value("phase", "") == "initial";
      if (saw_initial && !initial && initial_end < 0) initial_end = steps.back();
      saw_initial = saw_initial || initial;
    }
    if (steps.empty()) throw Error(path, "no metrics logged");
    auto get = [&](const std::string& k) { return series.count(k) && series[k].size() == steps.size() ? series[k] : std::vector<double>{}; };

    std::vector<LinePanel> panels;
    panels.push_back({{{steps, get("beta"), "beta", false}}, "beta", true});
    // The constraint: C_hat against its threshold when a constrained scheduler ran (on a log
    // scale when positive, so the approach to kappa^2 stays visible), else the raw measures.
    // A threshold that stayed put (every constrained scheduler's) is the SDK's reference line;
    // one that moved is drawn as the series it is.
    LinePanel constraint{{}, "constraint per data dimension", false};
    std::vector<std::vector<ReferenceLine>> references(2);  // panels 0 (beta) and 1 (the constraint)
    if (!get("C_hat").empty()) {
      constraint.series.push_back({steps, get("C_hat"), "C_hat", false});
      const std::vector<double> threshold = get("threshold");
      const bool fixed = !threshold.empty() && std::all_of(threshold.begin(), threshold.end(),
                                                           [&](double v) { return v == threshold.front(); });
      if (fixed) references[1].push_back({threshold.front(), "threshold (kappa^2)"});
      else if (!threshold.empty()) constraint.series.push_back({steps, threshold, "threshold (kappa^2)", true});
      bool positive = !fixed || threshold.front() > 0;
      for (const auto& s : constraint.series)
        for (double v : s.y) positive = positive && v > 0;
      constraint.log_y = positive;
    } else {
      constraint.series.push_back({steps, get("squared_error_per_dim"), "squared_error_per_dim", false});
      constraint.log_y = true;
    }
    panels.push_back(constraint);
    panels.push_back({{{steps, get("rate"), "rate of z (nats)", false}}, "rate of z", false});
    // The collapse diagnostics (host: collapse.hpp): each upper layer's KL to its prior, on a log
    // scale where positive (a dead layer sits near 1e-4 nats, a live one at nats), and every
    // layer's active units.
    LinePanel upper{{}, "KL of each layer above z to its prior (nats)", true};
    LinePanel active{{}, "active units per stochastic layer", false};
    for (const auto& [key, values] : series) {
      if (values.size() != steps.size()) continue;
      const auto at = key.rfind("_kl");
      if (at != std::string::npos && at + 3 == key.size()) {
        const std::string layer = key.substr(0, at);
        upper.series.push_back({steps, values, "KL(q(" + layer + "|z) || p(" + layer + "))", false});
        for (double v : values) upper.log_y = upper.log_y && v > 0;
      }
      const auto units = key.rfind("_active_units");
      if (units != std::string::npos && units + 13 == key.size())
        active.series.push_back({steps, values, key.substr(0, units), false});
    }
    if (!upper.series.empty()) panels.push_back(upper);
    if (!active.series.empty()) panels.push_back(active);
    panels.push_back({{{steps, get("distortion"), "distortion (nats)", false}}, "distortion", false});
    EvalResult r;
    if (save_line_panels(artefact_path(ctx.artefact_dir, file_), panels, "step", references)) r.artefacts.push_back(file_);
    r.metrics["final_beta"] = get("beta").empty() ? 0.0 : get("beta").back();
    if (initial_end > 0) r.metrics["initial_phase_end_step"] = initial_end;
    for (const char* key : {"binding_share", "beta_one_step"})
      if (!series[key].empty()) r.metrics[key] = series[key].back();
    return r;
  }

 private:
  std::string file_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, training_curves, TrainingCurvesEvaluator, "1.0.0",
                "PNG of beta, C_hat against kappa^2, each layer's rate, active units and distortion over training (Fig. 2)")
