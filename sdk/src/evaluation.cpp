#include "priorlab/evaluation.hpp"

#include <algorithm>

#include "priorlab/error.hpp"
#include "priorlab/math.hpp"

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
  return artefact_dir.empty() ? std::string() : artefact_dir + "/" + file;
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

void for_each_shard_batch(const EvalContext& ctx, Split split, std::int64_t limit, std::int64_t batch_size,
                          const std::function<void(const Batch&, std::int64_t, std::int64_t)>& fn) {
  if (batch_size < 1) throw Error("batch_size", "expected at least 1, found " + std::to_string(batch_size));
  if (ctx.world < 1 || ctx.rank < 0 || ctx.rank >= ctx.world)
    throw Error("evaluation", "rank " + std::to_string(ctx.rank) + " of " + std::to_string(ctx.world) + " is not a rank");
  const auto n = ctx.dataset->size(split);
  const auto total = limit > 0 ? std::min(limit, n) : n;
  const std::int64_t batches = (total + batch_size - 1) / batch_size;
  const std::int64_t first = ctx.rank * batches / ctx.world, last = (ctx.rank + 1) * batches / ctx.world;
  const std::int64_t begin = first * batch_size, mine = std::min(total, last * batch_size) - begin;
  for (std::int64_t b = first; b < last; ++b) {
    const auto start = b * batch_size, end = std::min(total, start + batch_size);
    const auto batch = ctx.dataset->get(split, torch::arange(start, end, torch::kLong), kEvaluationDrawSeed);
    torch::manual_seed(mix_seed(ctx.seed, 0x6261746368ULL /* "batch" */, static_cast<std::uint64_t>(b)));
    fn(batch, end - begin, mine);
  }
  // What the evaluator draws next must not depend on which batch this rank did last.
  torch::manual_seed(mix_seed(ctx.seed, 0x6166746572ULL /* "after" */, static_cast<std::uint64_t>(batches)));
}

AverageTerms average_terms(const EvalContext& ctx, Split split, std::int64_t limit, std::int64_t batch_size,
                           double progress_share) {
  torch::NoGradGuard no_grad;
  // distortion, rate, squared error and examples, summed over this rank's batches, then ranks.
  auto sums = torch::zeros({4}, torch::kDouble);
  for_each_shard_batch(ctx, split, limit, batch_size, [&](const Batch& b, std::int64_t done, std::int64_t total) {
    const ObjectiveTerms t = ctx.objective->compute(ctx.model_input(b.x), *ctx.network, *ctx.prior, 1.0);
    sums += torch::tensor({t.distortion.sum().item<double>(), t.rate.sum().item<double>(),
                           t.squared_error.sum().item<double>(), static_cast<double>(b.x.size(0))},
                          torch::kDouble);
    ctx.progress(progress_share * done / total, "evaluating the objective");
  });
  sums = ctx.sum_over_ranks(sums);
  const double* s = sums.data_ptr<double>();
  AverageTerms a;
  a.examples = static_cast<std::int64_t>(s[3]);
  if (a.examples == 0) throw Error(to_string(split), "no examples to evaluate");
  a.distortion = s[0] / a.examples, a.rate = s[1] / a.examples, a.squared_error = s[2] / a.examples;
  return a;
}

EncodedSplit encode_split(const EvalContext& ctx, Split split, std::int64_t limit, double progress_share) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> means, logvars, labels;
  for_each_shard_batch(ctx, split, limit, 500, [&](const Batch& b, std::int64_t done, std::int64_t total) {
    const DiagGaussian q = ctx.network->encode(ctx.model_input(b.x));
    means.push_back(q.mu.to(torch::kCPU, torch::kDouble));
    logvars.push_back(q.logvar.to(torch::kCPU, torch::kDouble));
    if (b.label.defined()) labels.push_back(b.label.to(torch::kDouble));
    ctx.progress(progress_share * done / total, "encoding");
  });
  // Every rank makes the same collective calls, also one with no batches (more ranks than
  // batches): its shares are empty. Labels are kept when every rank that has rows has them.
  const std::int64_t d = ctx.network->latent_dim();
  auto local = [&](std::vector<torch::Tensor>& parts, torch::IntArrayRef empty) {
    return parts.empty() ? torch::zeros(empty, torch::kDouble) : torch::cat(parts);
  };
  const bool has_rows = !means.empty(), has_labels = has_rows && labels.size() == means.size();
  const auto counts = ctx.sum_over_ranks(torch::tensor({has_rows ? 1.0 : 0.0, has_labels ? 1.0 : 0.0}, torch::kDouble));
  const double rows_ranks = counts[0].item<double>(), labelled_ranks = counts[1].item<double>();
  if (rows_ranks == 0) throw Error(to_string(split), "no examples to encode");
  EncodedSplit e{ctx.gather_rows(local(means, {0, d})), ctx.gather_rows(local(logvars, {0, d})), torch::Tensor()};
  if (labelled_ranks == rows_ranks) e.labels = ctx.gather_rows(has_labels ? torch::cat(labels) : torch::zeros({0}, torch::kDouble));
  return e;
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
