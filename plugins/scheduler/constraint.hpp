// The reconstruction constraint shared by the constrained-optimisation schedulers (REWO, GECO):
// which per-dimension error is the constraint C, its threshold, and the running average Ĉ_t.
//
//   C_ba  = the batch's reconstruction error per data dimension (SchedulerInput), chosen by
//           `measure`: "nll" -> nll_per_dim, "squared_error" -> squared_error_per_dim.
//   Ĉ_t   = (1 - alpha) * C_ba + alpha * Ĉ_{t-1},   Ĉ_0 = C_ba   (so Ĉ_1 = C_ba exactly).
//   delta = Ĉ_t - threshold, where `threshold` is compared with Ĉ directly: it is the paper's κ².
//
// Header-only so each scheduler plugin compiles its own copy (hidden visibility keeps the
// copies apart); it could move into the SDK as one shared class.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include <priorlab/sdk.hpp>

namespace priorlab::plugins {

class ConstraintAverage {
 public:
  /// Declares threshold, measure and alpha on `set` (the first options of each scheduler).
  static OptionSet& declare(OptionSet& set) {
    set.add(Option::real("threshold", 0.18)
                .help("constraint threshold compared with the running average C_hat directly (the paper's kappa^2); "
                      "set it per dataset and measure"));
    set.add(Option::string("measure", "nll")
                .choices({"nll", "squared_error"})
                .help("constraint C per data dimension: nll = -log p(x|z), squared_error = ||x - mean||^2"));
    set.add(Option::real("alpha", 0.99).min(0).max(1).help("running-average weight of the previous C_hat, < 1"));
    return set;
  }

  /// Reads the options declared by declare(); `path` is the plugin's section for errors.
  ConstraintAverage(const Options& options, const std::string& path)
      : threshold_(options.real("threshold")),
        alpha_(options.real("alpha")),
        squared_error_(options.string("measure") == "squared_error") {
    if (!(alpha_ < 1.0))
      throw Error(path + "/options/alpha", "must be < 1 (alpha = 1 would freeze C_hat at the first batch)");
  }

  /// The chosen measure of one step's batch.
  double measure(const SchedulerInput& in) const { return squared_error_ ? in.squared_error_per_dim : in.nll_per_dim; }

  /// Takes one step's batch statistics in and returns the new Ĉ_t.
  double update(const SchedulerInput& in) {
    c_ba_ = measure(in);
    c_hat_ = seen_ ? (1.0 - alpha_) * c_ba_ + alpha_ * c_hat_ : c_ba_;
    seen_ = true;
    return c_hat_;
  }

  /// Ĉ_t − threshold for the latest Ĉ_t.
  double delta() const { return c_hat_ - threshold_; }
  /// Whether the constraint holds strictly: Ĉ_t < threshold.
  bool satisfied() const { return seen_ && c_hat_ < threshold_; }

  double c_hat() const { return c_hat_; }
  double c_ba() const { return c_ba_; }
  double threshold() const { return threshold_; }
  bool seen() const { return seen_; }

  /// {"C_hat", "C_ba", "threshold"}; the first two only once a step has been seen.
  std::map<std::string, double> metrics() const {
    std::map<std::string, double> m{{"threshold", threshold_}};
    if (seen_) {
      m["C_hat"] = c_hat_;
      m["C_ba"] = c_ba_;
    }
    return m;
  }

  nlohmann::json state() const { return {{"seen", seen_}, {"C_hat", c_hat_}, {"C_ba", c_ba_}}; }
  void load_state(const nlohmann::json& s) {
    seen_ = s.at("seen").get<bool>();
    c_hat_ = s.at("C_hat").get<double>();
    c_ba_ = s.at("C_ba").get<double>();
  }

 private:
  double threshold_;
  double alpha_;
  bool squared_error_;
  bool seen_ = false;
  double c_hat_ = 0.0;
  double c_ba_ = 0.0;
};

}  // namespace priorlab::plugins
