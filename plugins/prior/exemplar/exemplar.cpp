// Prior "exemplar": the Exemplar VAE prior (Norouzi, Fleet & Norouzi 2020), a Parzen window on
// the encodings of the training examples,
//
//   p(z | X) = (1/N) Σ_n N(z; μ_φ(x_n), σ² I),
//
// μ_φ the VAE's own encoder mean (the network's parameters, not this prior's), σ² = exp(v) one
// learned variance shared by every exemplar and dimension (v is this prior's only parameter).
// Reference: sajadn/Exemplar-VAE (density_estimation.py, models/BaseModel.py, utils/training.py,
// utils/evaluation.py); README.md says which of its choices this file takes, with its lines.
//
// A training step (training mode, gradients on), for z [..., B, D] whose rows on dimension -2
// are the batch of begin_step()'s indices i_b:
//   S          the step's exemplars: all N training examples, or a fresh random subset of M
//              (`exemplars`), drawn from (seed, step)
//   S_b        S without i_b (leave-one-out), n_b = |S_b|
//   k = 0:     log p(z_b) = log (1/n_b) Σ_{m ∈ S_b}      N(z_b; μ_φ(x_m), σ² I)       exact
//   k > 0:     log p(z_b) = log (1/n_b) Σ_{m ∈ kNN_b}    N(z_b; μ_φ(x_m), σ² I)       a lower bound:
//              kNN_b = the k members of S_b nearest to the row's z (its mean over the leading
//              sample dimensions) by the cached encodings; the k are then re-encoded with gradient.
// Otherwise (evaluation mode, or no gradients): S = all N, no leave-one-out, (1/N), fresh
// encodings of every exemplar; exact by default (`eval_k` = 0), or the eval_k nearest per point.
//
// The cache (a buffer, saved with the module) holds μ_φ(x_n) for all N, recomputed without
// gradient every `refresh_every` epochs at begin_step(); it picks the neighbours and, with
// exemplar_gradient = false, supplies their means.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <priorlab/sdk.hpp>

namespace {

using namespace priorlab;

constexpr double kLog2Pi = 1.8378770664093453;                    // log(2 pi)
constexpr std::int64_t kEncodeChunk = 4096;                       // exemplars per encoder call without gradient
constexpr std::int64_t kTableValues = std::int64_t{1} << 24;      // evaluation, kNN: rows x exemplars per chunk
constexpr std::int64_t kTileRows = 128;                           // evaluation, exact: a tile of rows ...
constexpr std::int64_t kTileExemplars = 1024;                     // ... x exemplars (1 MiB of doubles, a core's L2)
constexpr std::uint64_t kExemplarStream = 0x6578656d706c6172ULL;  // "exemplar": the exemplars' draw
constexpr std::uint64_t kSubsetStream = 0x737562736574ULL;        // "subset": a step's exemplar subset

class ExemplarPrior : public Prior {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::integer("k", 10).min(0).help(
            "training: neighbours per batch row in its mixture (the reference's approximate_k); 0 = exact over the "
            "step's exemplars"))
        .add(Option::integer("eval_k", 0).min(0).help(
            "evaluation: neighbours per point; 0 = exact over all training examples (the reference's test time)"))
        .add(Option::integer("exemplars", 0).min(0).help(
            "training: a fresh random subset of this many training examples forms each step's mixture (the "
            "reference's number_components); 0 = all of them"))
        .add(Option::real("refresh_every", 1.0).min(0).help(
            "epochs between recomputations of the cached encodings that pick the neighbours (the reference: every "
            "epoch); 0 = every step"))
        .add(Option::real("init_log_variance", 0.0).help(
            "log sigma^2 starts as init_log_variance + init_log_variance_std * N(0, 1) (the reference: randn(1))"))
        .add(Option::real("init_log_variance_std", 1.0).min(0).help(
            "see init_log_variance; 0 = exactly init_log_variance"))
        .add(Option::boolean("leave_one_out", true).help(
            "training: a batch row's own example is left out of its mixture (the reference's default; its --no_mask "
            "turns it off)"))
        .add(Option::boolean("exemplar_gradient", true).help(
            "training: the exemplars in the mixture are re-encoded with gradient, so log p(z) trains the encoder "
            "through them too (the reference); false = their cached encodings, no gradient"));
  }

  explicit ExemplarPrior(const BuildContext& ctx)
      : where_("prior " + ctx.name),
        network_(ctx.network),
        seed_(ctx.seed),
        k_(ctx.options.integer("k")),
        eval_k_(ctx.options.integer("eval_k")),
        subset_(ctx.options.integer("exemplars")),
        refresh_every_(ctx.options.real("refresh_every")),
        leave_one_out_(ctx.options.boolean("leave_one_out")),
        exemplar_gradient_(ctx.options.boolean("exemplar_gradient")) {
    if (!network_) throw Error(ctx.path, "needs the pipeline's network: the exemplars are encoded by its encoder");
    if (!ctx.dataset)
      throw Error(ctx.path,
                  "needs the pipeline's dataset: the exemplars are its training examples (the build context has none)");
    latent_ = network_->latent_dim();
    if (latent_ < 1) throw Error(ctx.path, "needs the network's latent dimension");
    n_ = ctx.dataset->size(Split::Train);
    if (n_ < 1) throw Error(ctx.path, "the dataset has no training examples to serve as exemplars");
    if (subset_ > n_)
      throw Error(ctx.path + "/options/exemplars", "asks for " + std::to_string(subset_) +
                                                       " exemplars per step but the training split has " +
                                                       std::to_string(n_) + " examples");
    if (leave_one_out_ && (n_ < 2 || subset_ == 1))
      throw Error(ctx.path + "/options/leave_one_out",
                  "would leave a training row's mixture empty (" + std::to_string(subset_ == 1 ? 1 : n_) + " exemplar" +
                      (subset_ == 1 ? "" : "s") + "); set it to false or use more exemplars");
    // The exemplars' data, read once: a pure function of (dataset, seed), so it is not state to
    // save. A dynamically binarised dataset gives one fixed draw of each exemplar.
    x_ = ctx.dataset->get(Split::Train, torch::arange(n_, torch::kLong), mix_seed(seed_, kExemplarStream)).x;
    log_variance_ = register_parameter("log_variance", torch::randn({1}) * ctx.options.real("init_log_variance_std") +
                                                           ctx.options.real("init_log_variance"));
    // μ_φ(x_n) for every training example, as of the last refresh; and when that was: the
    // refresh period (in units of refresh_every epochs; the step itself when refresh_every = 0)
    // and the step, -1 before the first. Buffers: a resumed run continues from the same cache.
    cache_ = register_buffer("cache", torch::zeros({n_, latent_}));
    cache_period_ = register_buffer("cache_period", torch::full({1}, -1.0));
    cache_step_ = register_buffer("cache_step", torch::full({1}, -1.0));
  }

  torch::Tensor log_prob(const torch::Tensor& z) override {
    if (z.dim() < 1 || z.size(-1) != latent_)
      throw Error(where_, "log_prob needs z [..., " + std::to_string(latent_) + "], got " + c10::str(z.sizes()));
    // A training step: training mode with gradients on (as VHP's running statistics). A
    // training-mode call without gradients (a check after training, a diagnostic) is not one
    // and gets the evaluation mixture.
    const bool training_step = is_training() && torch::GradMode::is_enabled();
    return training_step ? training_log_prob(z) : evaluation_log_prob(z);
  }

  /// n ~ U{1..N}, z = μ_φ(x_n) + σ ε -> [n, D]: the mixture's own sampler (the reference's
  /// generate_z), with the current encoder's means, reparameterised in σ and the encoder.
  torch::Tensor sample(std::int64_t n) override {
    if (n == 0) return torch::empty({0, latent_}, log_variance_.options());
    const auto pick =
        torch::randint(n_, {n}, torch::TensorOptions().dtype(torch::kLong).device(log_variance_.device()));
    const auto mu = encode(pick);  // [n, D]
    return sample_diag_gaussian({mu, log_variance_.expand({n, latent_})});
  }

  /// Leave-one-out needs the batch's training indices; the step's exemplar subset and the
  /// cache's schedule are functions of the step alone (resume-exact, and equal on every rank).
  void begin_step(const PriorStep& step) override {
    eval_means_ = torch::Tensor();
    indices_ = step.indices.defined() ? step.indices.to(torch::kLong).to(log_variance_.device()) : torch::Tensor();
    if (subset_ > 0) {
      auto gen = at::detail::createCPUGenerator(mix_seed(seed_, kSubsetStream, static_cast<std::uint64_t>(step.step)));
      step_set_ = torch::randperm(n_, gen, torch::TensorOptions().dtype(torch::kLong))
                      .slice(0, 0, subset_)
                      .to(log_variance_.device());
    }
    // epoch = step / steps_per_epoch; the small margin keeps a boundary that the division puts a
    // rounding error below (3.0 / 0.1 = 29.999...) in the period it belongs to.
    const double period =
        refresh_every_ > 0 ? std::floor(step.epoch / refresh_every_ + 1e-9) : static_cast<double>(step.step);
    if (period != last_period()) refresh(period, step.step);
  }

  /// A change of mode ends the batch: evaluation never sees the last training batch's indices,
  /// and the evaluation encodings are recomputed.
  void train(bool on = true) override {
    Prior::train(on);
    indices_ = torch::Tensor();
    step_set_ = torch::Tensor();
    eval_means_ = torch::Tensor();
  }

  void load(torch::serialize::InputArchive& archive) override {
    Prior::load(archive);
    period_known_ = false;  // read from the loaded buffer at the next begin_step
    cache_norms_ = torch::Tensor();
    eval_means_ = torch::Tensor();
  }

 private:
  // ---- training -------------------------------------------------------------------------------

  torch::Tensor training_log_prob(const torch::Tensor& z) {
    if (z.dim() < 2)
      throw Error(where_, "log_prob in training mode needs z [..., B, D], the batch's rows on dimension -2; got " +
                              c10::str(z.sizes()));
    const std::int64_t rows = z.size(-2);
    if (leave_one_out_ && !indices_.defined())
      throw Error(where_,
                  "leave-one-out needs the batch's training indices: call begin_step() before log_prob() in "
                  "training mode (the trainer does), or set leave_one_out to false");
    if (indices_.defined() && indices_.size(0) != rows)
      throw Error(where_, "z has " + std::to_string(rows) + " batch rows (dimension -2) but begin_step() gave " +
                              std::to_string(indices_.size(0)) + " training indices");
    if (subset_ > 0 && !step_set_.defined())
      throw Error(where_,
                  "the step's exemplar subset is drawn in begin_step(): call it before log_prob() in training mode");
    if (k_ > 0 || !exemplar_gradient_) ensure_cache();  // the cache picks neighbours or supplies means

    const auto set = step_set_.defined() ? step_set_ : all_indices();  // [C] training indices
    const std::int64_t c = set.size(0);
    const auto zr = z.reshape({-1, rows, latent_});  // [L, B, D]
    // Leave-one-out: the position of row b's own example in the set, -1 where it is not in it.
    const auto own = leave_one_out_ ? own_position(set) : torch::Tensor();  // [B]
    auto count = torch::full({rows}, static_cast<double>(c), z.options());  // [B] n_b
    if (own.defined()) count = count - (own >= 0).to(z.scalar_type());

    torch::Tensor log_sum;  // [L, B]: log Σ over the row's components
    if (k_ == 0) {
      const auto means = exemplar_means(set);         // [C, D]
      auto table = isotropic_log_density(zr, means);  // [L, B, C]
      if (own.defined()) table = table.masked_fill(own_mask(own, c), -std::numeric_limits<double>::infinity());
      log_sum = torch::logsumexp(table, -1);
    } else {
      // Neighbours by the cached encodings, one set per row: its z averaged over the leading
      // (sample) dimensions, z itself for one sample.
      const auto query = zr.detach().mean(0);  // [B, D]
      const auto& norms = cache_norms();
      const auto [position, left_out] =  // [B, k] into the set; [B, k] the own example, when < k others
          nearest(query, step_set_.defined() ? cache_.index_select(0, set) : cache_,
                  step_set_.defined() ? norms.index_select(0, set) : norms, own, std::min(k_, c));
      const std::int64_t k = position.size(1);
      const auto chosen = set.index_select(0, position.reshape({-1}));  // [B k] training indices
      const auto unique = torch::_unique2(chosen, /*sorted=*/true, /*return_inverse=*/true);
      const auto means = exemplar_means(std::get<0>(unique))  // [U, D] each once
                             .index_select(0, std::get<1>(unique).reshape({-1}))
                             .view({rows, k, latent_});                                // [B, k, D]
      auto table = diag_gaussian_log_density(zr.unsqueeze(-2), means, log_variance_);  // [L, B, k]
      table = table.masked_fill(left_out, -std::numeric_limits<double>::infinity());
      log_sum = torch::logsumexp(table, -1);
    }
    return (log_sum - count.log()).reshape(z.sizes().slice(0, z.dim() - 1));
  }

  /// Where each row's training index sits in `set` [C] -> [B], -1 where it is not in the set.
  torch::Tensor own_position(const torch::Tensor& set) {
    if (!step_set_.defined()) return indices_;  // the set is 0 .. N-1
    auto position = torch::full({n_}, -1, set.options());
    position.index_put_({set}, torch::arange(set.size(0), set.options()));
    return position.index_select(0, indices_);
  }

  /// [B, C] true at (b, own[b]) for the rows whose own example is in the set.
  static torch::Tensor own_mask(const torch::Tensor& own, std::int64_t c) {
    return torch::zeros({own.size(0), c}, own.options().dtype(torch::kBool))
        .scatter_(1, own.clamp_min(0).unsqueeze(1), (own >= 0).unsqueeze(1));
  }

  /// μ_φ(x_m) for training indices m [n]: re-encoded with gradient, or the cached values.
  torch::Tensor exemplar_means(const torch::Tensor& m) {
    return exemplar_gradient_ ? encode(m) : cache_.index_select(0, m);
  }

  // ---- evaluation -----------------------------------------------------------------------------

  torch::Tensor evaluation_log_prob(const torch::Tensor& z) {
    const auto& means = evaluation_means();      // [N, D]
    const auto flat = z.reshape({-1, latent_});  // [Q, D]
    const auto out_shape = z.sizes().slice(0, z.dim() - 1);
    if (flat.size(0) == 0) return torch::empty(out_shape, z.options());
    const double log_n = std::log(static_cast<double>(n_));
    if (eval_k_ == 0) return (exact_log_sum(flat) - log_n).reshape(out_shape);
    const std::int64_t chunk = std::max<std::int64_t>(1, kTableValues / n_);
    const std::int64_t k = std::min(eval_k_, n_);
    std::vector<torch::Tensor> parts;
    for (std::int64_t s = 0; s < flat.size(0); s += chunk) {
      const auto q = flat.slice(0, s, std::min(s + chunk, flat.size(0)));                                // [R, D]
      const auto position = std::get<0>(nearest(q.detach(), means, eval_norms_, torch::Tensor(), k));  // [R, k]
      const auto near = means.index_select(0, position.reshape({-1})).view({q.size(0), k, latent_});   // [R, k, D]
      parts.push_back(torch::logsumexp(diag_gaussian_log_density(q.unsqueeze(-2), near, log_variance_), -1));
    }
    return (torch::cat(parts) - log_n).reshape(out_shape);
  }

  /// μ_φ(x_n) for all N with the network as it is now, without gradient; kept while the
  /// network's tensors are the same ones, unmodified (recomputed after any optimiser step that
  /// goes through LibTorch, a load, a move, a change of mode, or a training step).
  const torch::Tensor& evaluation_means() {
    auto print = fingerprint();
    if (!eval_means_.defined() || print != eval_print_) {
      eval_means_ = encode_all();
      eval_norms_ = eval_means_.pow(2).sum(-1);
      eval_means64_ = eval_means_.to(torch::kDouble);
      eval_norms64_ = eval_means64_.pow(2).sum(-1);
      eval_print_ = std::move(print);
    }
    return eval_means_;
  }

  std::vector<std::int64_t> fingerprint() const {
    std::vector<std::int64_t> f{static_cast<std::int64_t>(network_->is_training()),
                                static_cast<std::int64_t>(log_variance_.scalar_type()),
                                static_cast<std::int64_t>(log_variance_.device().type()),
                                static_cast<std::int64_t>(log_variance_.device().index())};
    auto add = [&f](const torch::Tensor& t) {
      f.push_back(static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(t.unsafeGetTensorImpl())));
      f.push_back(static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(t.data_ptr())));
      f.push_back(static_cast<std::int64_t>(t._version()));
    };
    for (const auto& t : network_->parameters()) add(t);
    for (const auto& t : network_->buffers()) add(t);
    return f;
  }

  // ---- the cache ------------------------------------------------------------------------------

  double last_period() {
    if (!period_known_) {
      period_ = cache_period_.item<double>();  // one host read after construction or a load
      period_known_ = true;
    }
    return period_;
  }

  void refresh(double period, std::int64_t step) {
    torch::NoGradGuard no_grad;
    cache_.copy_(encode_all());
    cache_norms_ = torch::Tensor();
    cache_period_.fill_(period);
    cache_step_.fill_(static_cast<double>(step));
    period_ = period;
    period_known_ = true;
  }

  /// Training without begin_step() (tests, tools): a cache that was never filled is filled now.
  void ensure_cache() {
    if (last_period() < 0) refresh(0.0, 0);
  }

  /// ‖μ_n‖² of the cached means [N], for the neighbour search (derived from the buffer).
  const torch::Tensor& cache_norms() {
    if (!cache_norms_.defined() || cache_norms_.device() != cache_.device() ||
        cache_norms_.scalar_type() != cache_.scalar_type())
      cache_norms_ = cache_.pow(2).sum(-1);
    return cache_norms_;
  }

  // ---- encodings and distances ----------------------------------------------------------------

  /// The k candidates nearest to each query q [R, D] among means [C, D] (norms [C] = ‖μ_c‖²),
  /// never row r's candidate excluded[r] ([R], -1 = none; may be undefined) -> positions [R, k]
  /// into the candidates, and [R, k] true where a position is the excluded one (a row with
  /// fewer than k others). Ranked by ‖μ_c‖² − 2 q·μ_c, the squared distance less ‖q‖² (the
  /// same for a row): one fused matrix product in the module's dtype.
  static std::pair<torch::Tensor, torch::Tensor> nearest(const torch::Tensor& q, const torch::Tensor& means,
                                                         const torch::Tensor& norms, const torch::Tensor& excluded,
                                                         std::int64_t k) {
    auto score = torch::addmm(norms.unsqueeze(0), q, means.t(), /*beta=*/1, /*alpha=*/-2);  // [R, C]
    if (excluded.defined()) {
      const auto at = excluded.clamp_min(0).unsqueeze(1);  // [R, 1]
      const auto inf = torch::full({1, 1}, std::numeric_limits<double>::infinity(), score.options());
      score.scatter_(1, at, torch::where((excluded >= 0).unsqueeze(1), inf, score.gather(1, at)));
    }
    auto top = score.topk(k, -1, /*largest=*/false);
    return {std::get<1>(top), torch::isinf(std::get<0>(top))};
  }

  /// The exemplars' data on the module's device and dtype (moved once, when the module moves).
  const torch::Tensor& exemplar_data() {
    if (x_.device() != log_variance_.device() || x_.scalar_type() != log_variance_.scalar_type())
      x_ = x_.to(log_variance_.device(), log_variance_.scalar_type());
    return x_;
  }

  /// μ_φ(x_m) for training indices m [n] -> [n, D], with gradient when grad mode is on.
  torch::Tensor encode(const torch::Tensor& m) {
    return network_->encode(exemplar_data().index_select(0, m)).mu.to(log_variance_.scalar_type());
  }

  /// μ_φ(x_n) for all N -> [N, D], without gradient, a chunk of exemplars per encoder call.
  torch::Tensor encode_all() {
    torch::NoGradGuard no_grad;
    const auto& x = exemplar_data();
    std::vector<torch::Tensor> parts;
    for (std::int64_t s = 0; s < n_; s += kEncodeChunk)
      parts.push_back(network_->encode(x.slice(0, s, std::min(s + kEncodeChunk, n_))).mu);
    return torch::cat(parts).to(log_variance_.scalar_type());
  }

  const torch::Tensor& all_indices() {
    if (!all_.defined() || all_.device() != log_variance_.device())
      all_ = torch::arange(n_, torch::TensorOptions().dtype(torch::kLong).device(log_variance_.device()));
    return all_;
  }

  /// log N(z; μ_m, σ² I) for z [..., D] and every mean μ [M, D] -> [..., M], the isotropic
  /// Gaussian through the squared distance ‖z‖² + ‖μ_m‖² − 2 z·μ_m (one matrix product):
  ///   −½ [ D (log 2π + log σ²) + ‖z − μ_m‖² / σ² ]
  /// diag_gaussian_log_density with a shared variance, expanded, so that the exact mixture over
  /// tens of thousands of exemplars keeps [..., M] values for the backward pass, not [..., M, D]
  /// (the kNN path uses that helper). In double precision against the cancellation of the
  /// expanded form, as the reference's pairwise_distance (utils/distributions.py).
  torch::Tensor isotropic_log_density(const torch::Tensor& z, const torch::Tensor& means) const {
    const auto z64 = z.to(torch::kDouble).reshape({-1, latent_}), m64 = means.to(torch::kDouble);  // [Q, D], [M, D]
    const auto v = log_variance_.to(torch::kDouble);
    const auto d2 = torch::addmm(m64.pow(2).sum(-1).unsqueeze(0), z64, m64.t(), /*beta=*/1, /*alpha=*/-2) +
                    z64.pow(2).sum(-1, /*keepdim=*/true);  // [Q, M]
    auto shape = z.sizes().vec();
    shape.back() = means.size(0);
    return (-0.5 * (static_cast<double>(latent_) * (kLog2Pi + v) + d2 * torch::exp(-v)))
        .view(shape)
        .to(z.scalar_type());
  }

  /// log Σ_n N(q_r; μ_n, σ² I) over all N evaluation means, for q [Q, D] -> [Q], in double (the
  /// expansion's cancellation, as above), one tile of rows x exemplars at a time with a running
  /// maximum (the streaming logsumexp). With p = 1/σ² and t_rn = p q_r·μ_n − ½ p ‖μ_n‖²
  /// (= −½ p ‖q_r − μ_n‖² + ½ p ‖q_r‖²), for each tile of exemplars n ∈ T:
  ///   m' = max(m, max_{n∈T} t_rn),   s ← s e^{m − m'} + Σ_{n∈T} e^{t_rn − m'},   m ← m'
  /// and at the end log Σ_n N = m + log s − ½ p ‖q_r‖² − ½ D (log 2π + log σ²). A tile is
  /// kTileRows x kTileExemplars doubles (1 MiB), so the [Q, N] table never leaves a core's L2
  /// cache and no table-sized buffer is allocated: 134 MB tables per chunk of points, each a fresh
  /// mapping the kernel zeroes, made the MNIST test NLL 3.5x slower (docs/performance.md). The
  /// shift m is a constant of the sum (detached); the value and its gradients (q, σ²) are
  /// logsumexp's.
  torch::Tensor exact_log_sum(const torch::Tensor& q) const {
    const auto q64 = q.to(torch::kDouble);
    const auto v = log_variance_.to(torch::kDouble), precision = torch::exp(-v);
    const auto half_norms = eval_norms64_ * (-0.5 * precision);  // −½ p ‖μ_n‖² [N]
    const auto inf = std::numeric_limits<double>::infinity();
    std::vector<torch::Tensor> parts;
    for (std::int64_t r = 0; r < q64.size(0); r += kTileRows) {
      const auto rows = q64.slice(0, r, std::min(r + kTileRows, q64.size(0)));  // [R, D]
      const auto scaled = rows * precision;                                      // p q_r
      auto m = torch::full({rows.size(0)}, -inf, q64.options());
      auto s = torch::zeros({rows.size(0)}, q64.options());
      for (std::int64_t c = 0; c < n_; c += kTileExemplars) {
        const auto e = std::min(c + kTileExemplars, n_);
        auto t = torch::addmm(half_norms.slice(0, c, e).unsqueeze(0), scaled, eval_means64_.slice(0, c, e).t());
        const auto next = torch::maximum(m, std::get<0>(t.detach().max(-1)));  // [R]
        s = s * (m - next).exp() + t.sub_(next.unsqueeze(1)).exp_().sum(-1);
        m = next;
      }
      parts.push_back(m + s.log() - 0.5 * precision * rows.pow(2).sum(-1));
    }
    return (torch::cat(parts) - 0.5 * static_cast<double>(latent_) * (kLog2Pi + v)).to(q.scalar_type());
  }

  std::string where_;
  std::shared_ptr<Network> network_;  // shared with the pipeline, not a submodule: its parameters are the network's
  std::uint64_t seed_;
  std::int64_t k_, eval_k_, subset_;
  double refresh_every_;
  bool leave_one_out_, exemplar_gradient_;
  std::int64_t latent_ = 0, n_ = 0;

  torch::Tensor log_variance_;                       // [1] v = log σ², the parameter
  torch::Tensor cache_, cache_period_, cache_step_;  // buffers: [N, D], [1], [1]
  double period_ = -1.0;                             // cache_period_ on the host
  bool period_known_ = false;

  torch::Tensor x_;            // [N, *shape] the exemplars' data (recomputable: not saved)
  torch::Tensor all_;          // [N] 0 .. N-1 on the module's device
  torch::Tensor indices_;      // [B] this step's training indices (training only)
  torch::Tensor step_set_;     // [M] this step's exemplar subset (training, exemplars > 0)
  torch::Tensor cache_norms_;  // [N] ‖cache_n‖² (derived from the buffer: not saved)
  torch::Tensor eval_means_;   // [N, D] evaluation encodings, their ‖·‖², and the network state they belong to
  torch::Tensor eval_norms_, eval_means64_, eval_norms64_;
  std::vector<std::int64_t> eval_print_;
};

}  // namespace

PRIORLAB_PLUGIN(Prior, exemplar, ExemplarPrior, "1.0.0",
                "Exemplar VAE prior: Parzen window of the encoder's means at the training examples, learned shared "
                "variance, leave-one-out and kNN in training")
