#include "engine/collapse.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace priorlab::host {

namespace {

std::string ordinal(std::size_t n) {
  static const char* const words[] = {"first", "second", "third", "fourth", "fifth"};
  return n >= 1 && n <= 5 ? words[n - 1] : fmt::format("{}th", n);
}

std::string units(const LayerRecord& l) { return fmt::format("{} of {} units active", l.active_units, l.dimensions); }

std::string layer_words(const LayerRecord& l, std::size_t position) {
  return l.upper ? fmt::format("the {} stochastic layer ({})", ordinal(position), l.name)
                 : fmt::format("the latent layer {}", l.name);
}

}  // namespace

CollapseMonitor::CollapseMonitor(Pipeline& pipeline, CollapseOptions options) : p_(pipeline), options_(options) {}

std::string CollapseMonitor::collapse_line(const LayerRecord& l, std::size_t position) {
  if (!l.upper)
    return fmt::format("{} has collapsed since step {}: q({}|x) no longer depends on x ({}); the decoder ignores it",
                       layer_words(l, position), l.collapsed_since, l.name, units(l));
  std::string line = fmt::format("{} has collapsed since step {}: q({}|z) ~ p({}) (KL {:.2g} nats, {})",
                                 layer_words(l, position), l.collapsed_since, l.name, l.name, l.kl, units(l));
  if (!l.when_collapsed.empty()) line += "; " + l.when_collapsed;
  return line;
}

void CollapseMonitor::measure(std::vector<LayerRecord>& now, double rate) {
  torch::NoGradGuard no_grad;
  if (!probe_.defined()) {
    // A fixed random subset of the training split, drawn from its own generator: the training
    // noise (seeded per step) is untouched.
    const std::int64_t n = p_.dataset->size(Split::Train), take = std::min(n, options_.examples);
    auto gen = at::detail::createCPUGenerator(mix_seed(p_.seed, 0x70726f6265ULL /* "probe" */));
    const auto idx = torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kLong)).slice(0, 0, take);
    probe_ = p_.dataset->get(Split::Train, idx, mix_seed(p_.seed, 0x70726f6265ULL, 1)).x.to(p_.device, p_.dtype);
  }
  // Only the posterior means matter: activity is their spread, and the upper layers are read at them.
  std::vector<torch::Tensor> means;
  for (std::int64_t s = 0; s < probe_.size(0); s += 500) means.push_back(p_.network->encode(probe_.slice(0, s, s + 500)).mu);
  const auto mu = torch::cat(means);  // [N, D]
  std::vector<LayerActivity> layers{layer_activity("z", mu, torch::Tensor(), options_.threshold)};
  for (auto& upper : upper_layer_activity(*p_.prior, mu, options_.threshold)) layers.push_back(std::move(upper));
  now.clear();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    LayerRecord r;
    r.name = layers[i].name;
    r.dimensions = layers[i].dimensions();
    r.active_units = layers[i].active_units();
    r.upper = i > 0;
    r.kl = r.upper ? layers[i].kl_total() : rate;
    r.when_collapsed = layers[i].when_collapsed;
    now.push_back(std::move(r));
  }
}

std::vector<std::string> CollapseMonitor::observe(std::int64_t step, bool prior_trains, double rate,
                                                  nlohmann::json& record) {
  std::vector<std::string> lines;
  if (!enabled()) return lines;
  std::vector<LayerRecord> now;
  measure(now, rate);
  for (std::size_t i = 0; i < now.size(); ++i) {
    LayerRecord& l = now[i];
    // The counters carry over from the last interval when the layers are the same.
    if (i < layers_.size() && layers_[i].name == l.name) {
      l.collapsed_intervals = layers_[i].collapsed_intervals;
      l.collapsed_since = layers_[i].collapsed_since;
      l.reported = layers_[i].reported;
    }
    const bool trains = !l.upper || prior_trains;
    if (l.active_units == 0) {
      if (trains && l.collapsed_intervals++ == 0) l.collapsed_since = step;
      if (!l.reported && l.collapsed_intervals >= options_.patience) {
        lines.push_back(collapse_line(l, i + 1));
        l.reported = true;
      }
    } else {
      if (l.reported)
        lines.push_back(fmt::format("{} is active again at step {} ({}{})", layer_words(l, i + 1), step, units(l),
                                    l.upper ? fmt::format(", KL {:.3g} nats", l.kl) : std::string()));
      l.collapsed_intervals = 0;
      l.collapsed_since = -1;
      l.reported = false;
    }
    record[l.name + "_active_units"] = l.active_units;
    if (l.upper) record[l.name + "_kl"] = l.kl;
  }
  layers_ = std::move(now);
  last_step_ = step;
  return lines;
}

nlohmann::json CollapseMonitor::summary() const {
  if (!enabled() || layers_.empty()) return nullptr;
  nlohmann::json layers = nlohmann::json::array();
  std::vector<std::string> dead;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const LayerRecord& l = layers_[i];
    nlohmann::json j = {{"name", l.name},
                        {"dimensions", l.dimensions},
                        {"active_units", l.active_units},
                        {"alive", l.active_units > 0}};
    j[l.upper ? "kl" : "rate"] = l.kl;
    if (l.active_units == 0) {
      if (l.collapsed_since >= 0) j["collapsed_since_step"] = l.collapsed_since;
      dead.push_back(l.collapsed_since >= 0 && l.reported ? collapse_line(l, i + 1)
                                                          : fmt::format("{} has no active unit at step {}",
                                                                        layer_words(l, i + 1), last_step_));
    }
    layers.push_back(std::move(j));
  }
  std::string verdict;
  for (const auto& d : dead) verdict += (verdict.empty() ? "" : "; ") + d;
  if (dead.empty()) {
    verdict = "every stochastic layer is alive (";
    for (std::size_t i = 0; i < layers_.size(); ++i)
      verdict += fmt::format("{}{}: {}", i ? ", " : "", layers_[i].name, units(layers_[i]));
    verdict += ")";
  }
  return {{"step", last_step_},
          {"probe_examples", probe_.defined() ? probe_.size(0) : 0},
          {"threshold", options_.threshold},
          {"patience", options_.patience},
          {"layers", layers},
          {"all_alive", dead.empty()},
          {"verdict", verdict}};
}

nlohmann::json CollapseMonitor::state() const {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : layers_)
    layers.push_back({{"name", l.name},
                      {"dimensions", l.dimensions},
                      {"active_units", l.active_units},
                      {"kl", l.kl},
                      {"upper", l.upper},
                      {"when_collapsed", l.when_collapsed},
                      {"collapsed_intervals", l.collapsed_intervals},
                      {"collapsed_since", l.collapsed_since},
                      {"reported", l.reported}});
  return {{"layers", layers}, {"step", last_step_}};
}

void CollapseMonitor::load_state(const nlohmann::json& s) {
  layers_.clear();
  if (!s.is_object()) return;
  for (const auto& j : s.value("layers", nlohmann::json::array())) {
    LayerRecord l;
    l.name = j.at("name");
    l.dimensions = j.at("dimensions");
    l.active_units = j.at("active_units");
    l.kl = j.at("kl");
    l.upper = j.at("upper");
    l.when_collapsed = j.value("when_collapsed", "");
    l.collapsed_intervals = j.at("collapsed_intervals");
    l.collapsed_since = j.at("collapsed_since");
    l.reported = j.at("reported");
    layers_.push_back(std::move(l));
  }
  last_step_ = s.value("step", std::int64_t{-1});
}

}  // namespace priorlab::host
