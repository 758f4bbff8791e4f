#include "priorlab/evaluation.hpp"

#include <algorithm>

#include "priorlab/error.hpp"

namespace priorlab {

Split evaluation_split(const Dataset& dataset) {
  if (dataset.size(Split::Test) > 0) return Split::Test;
  if (dataset.size(Split::Validation) > 0) return Split::Validation;
  return Split::Train;
}

Split parse_split(const Dataset& dataset, const std::string& name) {
  if (name == "auto") return evaluation_split(dataset);
  for (auto s : {Split::Train, Split::Validation, Split::Test})
    if (name == to_string(s)) {
      if (dataset.size(s) == 0) throw Error(name, "the dataset has no such split");
      return s;
    }
  throw Error(name, "expected auto, train, validation or test");
}

std::string artefact_path(const std::string& artefact_dir, const std::string& file) {
  const bool plain = !file.empty() && file.find('/') == std::string::npos && file != "." && file != "..";
  if (!plain || file.size() < 5 || file.compare(file.size() - 4, 4, ".png") != 0)
    throw Error("file", "expected a plain file name ending in .png, found \"" + file + "\"");
  return artefact_dir + "/" + file;
}

void for_each_batch(const Dataset& dataset, Split split, std::int64_t limit, std::int64_t batch_size,
                    const std::function<void(const Batch&, std::int64_t, std::int64_t)>& fn) {
  const auto n = dataset.size(split);
  const auto total = limit > 0 ? std::min(limit, n) : n;
  for (std::int64_t start = 0; start < total; start += batch_size) {
    const auto end = std::min(total, start + batch_size);
    const auto batch = dataset.get(split, torch::arange(start, end, torch::kLong), kEvaluationDrawSeed);
    fn(batch, end, total);
  }
}

AverageTerms average_terms(const EvalContext& ctx, Split split, std::int64_t limit, std::int64_t batch_size,
                           double progress_share) {
  torch::NoGradGuard no_grad;
  AverageTerms a;
  for_each_batch(*ctx.dataset, split, limit, batch_size, [&](const Batch& b, std::int64_t done, std::int64_t total) {
    const ObjectiveTerms t = ctx.objective->compute(ctx.model_input(b.x), *ctx.network, *ctx.prior, 1.0);
    a.distortion += t.distortion.sum().item<double>();
    a.rate += t.rate.sum().item<double>();
    a.squared_error += t.squared_error.sum().item<double>();
    a.examples += b.x.size(0);
    ctx.progress(progress_share * done / total, "evaluating the objective");
  });
  if (a.examples == 0) throw Error(to_string(split), "no examples to evaluate");
  a.distortion /= a.examples, a.rate /= a.examples, a.squared_error /= a.examples;
  return a;
}

EncodedSplit encode_split(const EvalContext& ctx, Split split, std::int64_t limit, double progress_share) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> means, logvars, labels;
  for_each_batch(*ctx.dataset, split, limit, 500, [&](const Batch& b, std::int64_t done, std::int64_t total) {
    const DiagGaussian q = ctx.network->encode(ctx.model_input(b.x));
    means.push_back(q.mu.to(torch::kCPU, torch::kDouble));
    logvars.push_back(q.logvar.to(torch::kCPU, torch::kDouble));
    if (b.label.defined()) labels.push_back(b.label.to(torch::kDouble));
    ctx.progress(progress_share * done / total, "encoding");
  });
  if (means.empty()) throw Error(to_string(split), "no examples to encode");
  return {torch::cat(means), torch::cat(logvars), labels.empty() ? torch::Tensor() : torch::cat(labels)};
}

PrincipalComponents principal_components(const torch::Tensor& points, std::int64_t k) {
  PrincipalComponents pc;
  pc.centre = points.mean(0, true);
  const auto svd = torch::linalg_svd(points - pc.centre, false);  // right singular vectors = axes
  pc.basis = std::get<2>(svd).slice(0, 0, k).t();                 // [D, k]
  const auto s2 = std::get<1>(svd).pow(2);
  pc.explained = (s2.slice(0, 0, k).sum() / s2.sum()).item<double>();
  return pc;
}

}  // namespace priorlab
