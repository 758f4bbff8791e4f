// Evaluator "loglik": the test log-likelihood by importance sampling with the encoder as the
// proposal (DESIGN.md §4; Burda et al. 2016, Table 2 of Klushyn et al. 2019):
//
//   log p(x) ≈ log (1/S) Σ_s w_s,   w_s = p(x|z_s) p(z_s) / q(z_s|x),   z_s ~ q(z|x),  S = 5000.
//
// The S samples are drawn in chunks of C, and the log-sum-exp is accumulated across chunks
// (log Σ_s w_s = logsumexp over chunks of logsumexp within the chunk), so memory is bounded by
// C·B (·K for a prior with an importance-weighted log p(z)) whatever S is. The default bound,
// 2^23 values, keeps a chunk's tensors below the 32 MiB above which glibc maps memory afresh on
// each allocation (host/engine/malloc_tuning.hpp): with 2^25 (the default until issue 11) VHP's
// hidden layers over K·C·B points were 43 MB each and 38 % of the time went to page faults. The
// chunk decides how the draws interleave, so another max_elements gives other draws (the same
// estimator); a run's config.json records the value it was scored with. For a prior whose
// log p(z) is itself a K-sample bound (VHP), each log p(z_s) is that bound with the K stated in
// the options; the result is then a stochastic lower bound on log p(x) (by Jensen, per sample).
//
// Also reported, from the same draws: the ELBO E_q[log w] = −(rate + distortion), and its
// two parts in nats per example. artefacts/loglik_per_example.csv holds each example's log p(x)
// and ELBO terms (by index in the split), for paired comparisons of runs scored on one split.
//
// Data-parallel (docs/distributed.md): each rank scores a contiguous share of the batches, and
// each batch draws from a generator seeded by its index, so N ranks give the values one
// process gives (to the rounding of the final means).
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

// The widest layer of a module: the largest leading size of its weights of two or more dimensions
// (a Linear's output features, a convolution's output channels, a mixture's component count). It
// counts values per point in the chunk bound below; biases and buffers are left out.
std::int64_t widest_layer(const torch::nn::Module& m) {
  std::int64_t widest = 0;
  for (const auto& p : m.parameters())
    if (p.dim() >= 2) widest = std::max(widest, p.size(0));
  return widest;
}

class LogLikelihood : public Evaluator {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("samples", 5000).min(1).help("S, importance samples per example"))
        .add(Option::string("split", "auto").choices({"auto", "train", "validation", "test"}).help("which split"))
        .add(Option::integer("limit", 0).min(0).help("examples used: the first `limit` of the split (0: all)"))
        .add(Option::integer("batch_size", 50).min(1).help("examples evaluated together"))
        .add(Option::integer("max_elements", 1 << 23)
                 .min(1)
                 .help("memory bound: samples per chunk are chosen so that chunk x batch x max(1, K) x the widest of "
                       "data, latent and hidden layers stays below this many values"))
        .add(Option::integer("prior_samples", 0)
                 .min(0)
                 .help("K for priors whose log p(z) is an importance-weighted bound (VHP); 0: the prior's own"));
  }
  explicit LogLikelihood(const BuildContext& ctx) : o_(ctx.options), data_dim_(ctx.data.dimension()) {}

  EvalResult evaluate(const EvalContext& ctx) override {
    torch::NoGradGuard no_grad;
    Network& net = *ctx.network;
    Prior& prior = *ctx.prior;
    const std::int64_t own_k = prior.bound_samples();
    const std::int64_t k = own_k > 0 && o_.integer("prior_samples") > 0 ? o_.integer("prior_samples") : own_k;
    if (own_k > 0) prior.set_bound_samples(k);
    struct RestoreK {
      Prior& p;
      std::int64_t k;
      ~RestoreK() {
        if (k > 0) p.set_bound_samples(k);
      }
    } restore{prior, own_k};

    const std::int64_t S = o_.integer("samples");
    const std::int64_t B = o_.integer("batch_size");
    // Values per sample and example: the widest of data, latent and hidden layers, times K. (Before
    // issue 32 the layers were left out; where none is wider than the data, as in every shipped
    // network, the chunk and so the draws are the same.)
    const std::int64_t width =
        std::max({data_dim_, net.latent_dim(), widest_layer(net), widest_layer(prior)}) * std::max<std::int64_t>(1, k);
    const std::int64_t chunk = std::clamp<std::int64_t>(o_.integer("max_elements") / (B * width), 1, S);

    const Split split = parse_split(*ctx.dataset, o_.string("split"));
    // Per example: log p(x) and the means over its S draws of log w, the rate and the distortion.
    std::vector<torch::Tensor> log_px_all, elbo_all, rate_all, distortion_all;
    // Each rank scores its share of the batches (each batch seeded by its index, so the draws
    // do not depend on the number of ranks); the per-example values are gathered in order.
    for_each_shard_batch(ctx, split, o_.integer("limit"), B, [&](const Batch& batch, std::int64_t done, std::int64_t total) {
      const auto x = ctx.model_input(batch.x);
      const DiagGaussian q = net.encode(x);
      std::vector<torch::Tensor> chunk_lse;
      auto ex_log_w = torch::zeros({x.size(0)}, torch::kDouble), ex_rate = torch::zeros_like(ex_log_w),
           ex_distortion = torch::zeros_like(ex_log_w);
      for (std::int64_t s = 0; s < S; s += chunk) {
        const std::int64_t c = std::min(chunk, S - s);
        const auto z = sample_diag_gaussian(q, c);                         // [C, B, D]
        const auto log_px = net.log_likelihood(x, net.decode(z));           // [C, B]
        const auto rate = diag_gaussian_log_density(z, q.mu, q.logvar) - prior.log_prob(z);  // [C, B]
        const auto log_w = (log_px - rate).to(torch::kDouble);
        chunk_lse.push_back(torch::logsumexp(log_w, 0));                    // [B]
        ex_log_w += log_w.sum(0).cpu();
        ex_rate += rate.to(torch::kDouble).sum(0).cpu();
        ex_distortion -= log_px.to(torch::kDouble).sum(0).cpu();
        ctx.progress((done + (s + c) / static_cast<double>(S) * x.size(0)) / total, "log-likelihood");
      }
      log_px_all.push_back((torch::logsumexp(torch::stack(chunk_lse), 0) - std::log(static_cast<double>(S))).cpu());
      elbo_all.push_back(ex_log_w / static_cast<double>(S));
      rate_all.push_back(ex_rate / static_cast<double>(S));
      distortion_all.push_back(ex_distortion / static_cast<double>(S));
    });
    // Every rank gathers, also one whose share is empty (more ranks than batches).
    auto gathered = [&](std::vector<torch::Tensor>& parts) {
      return ctx.gather_rows(parts.empty() ? torch::zeros({0}, torch::kDouble) : torch::cat(parts));
    };
    const auto log_px = gathered(log_px_all), elbo = gathered(elbo_all), rate = gathered(rate_all),
               distortion = gathered(distortion_all);
    const std::int64_t examples = log_px.size(0);
    if (examples == 0) throw Error("evaluator loglik", std::string("the ") + to_string(split) + " split is empty");
    EvalResult r;
    if (!ctx.artefact_dir.empty()) {
      // Every example of the split in order (the first `limit`), so that two runs scored on the
      // same split pair up by index (priorlab compare --paired).
      const double* lp = log_px.data_ptr<double>();
      const double* e = elbo.data_ptr<double>();
      const double* ra = rate.data_ptr<double>();
      const double* d = distortion.data_ptr<double>();
      std::string csv = "index,log_px,elbo,rate,distortion\n";
      for (std::int64_t i = 0; i < examples; ++i)
        csv += fmt::format("{},{:.17g},{:.17g},{:.17g},{:.17g}\n", i, lp[i], e[i], ra[i], d[i]);
      write_file_atomic((std::filesystem::path(ctx.artefact_dir) / "loglik_per_example.csv").string(), csv);
      r.artefacts.push_back("loglik_per_example.csv");
    }
    r.metrics = {{"nll", -log_px.mean().item<double>()},
                 {"nll_standard_error", examples > 1 ? (log_px.std() / std::sqrt(static_cast<double>(examples))).item<double>() : 0.0},
                 {"elbo", elbo.mean().item<double>()},
                 {"rate", rate.mean().item<double>()},
                 {"distortion", distortion.mean().item<double>()},
                 {"examples", static_cast<double>(examples)},
                 {"samples", static_cast<double>(S)},
                 {"prior_samples", static_cast<double>(k)},
                 {"chunk", static_cast<double>(chunk)}};
    return r;
  }

 private:
  Options o_;
  std::int64_t data_dim_;
};

}  // namespace

PRIORLAB_PLUGIN(Evaluator, loglik, LogLikelihood, "1.0.0",
                "test log-likelihood by importance sampling (S = 5000), chunked; NLL, ELBO, rate, distortion")
