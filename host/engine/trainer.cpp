#include "engine/trainer.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

#include "engine/fused_adam.hpp"
#include "engine/progress.hpp"
#include "pipeline/safety.hpp"
#include "priorlab/io.hpp"

namespace fs = std::filesystem;

namespace priorlab::host {

namespace {

enum Sum { kLoss, kDistortion, kRate, kNllPerDim, kSqPerDim, kSums };

std::string checkpoint_name(std::int64_t step) { return fmt::format("step_{:08d}.pt", step); }

std::string short_number(double v) { return fmt::format("{:.4g}", v); }

/// A checkpoint that cannot serve (its bytes disagree with its checksum, or do not parse):
/// restore_latest() passes over it to the one before. Other errors refuse the resume.
struct DamagedCheckpoint : Error {
  using Error::Error;
};

}  // namespace

std::vector<std::pair<std::int64_t, std::string>> list_checkpoints(const std::string& dir) {
  static const std::regex pattern(R"(step_(\d{8,})\.pt)");
  std::vector<std::pair<std::int64_t, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string name = e.path().filename().string();
    if (std::regex_match(name, m, pattern)) found.emplace_back(std::stoll(m[1]), e.path().string());
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::pair<std::int64_t, std::string> find_checkpoint(const std::string& run_dir, std::optional<std::int64_t> step,
                                                     const std::string& purpose, const std::string& step_where) {
  const auto all = list_checkpoints((fs::path(run_dir) / "checkpoints").string());
  if (all.empty()) throw Error(run_dir, fmt::format("has no checkpoint to {} (checkpoints/ is empty)", purpose));
  if (!step) return all.back();
  const auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.first == *step; });
  if (it != all.end()) return *it;
  std::string steps;
  for (const auto& c : all) steps += (steps.empty() ? "" : ", ") + std::to_string(c.first);
  throw Error(step_where, fmt::format("{} has no checkpoint at that step (it has: {})", run_dir, steps));
}

ConstraintBaseline constraint_baseline(Pipeline& p) {
  torch::NoGradGuard no_grad;
  const Split split = Split::Train;
  const std::int64_t n = p.dataset->size(split), chunk = 1000;
  const std::uint64_t draw = mix_seed(p.seed, 0x62617365ULL /* "base" */);
  auto batch = [&](std::int64_t start) {
    const auto idx = torch::arange(start, std::min(n, start + chunk), torch::kLong);
    return p.dataset->get(split, idx, draw).x.to(p.device, torch::kDouble);
  };
  // Pass 1: the mean image; pass 2: the errors of predicting it (same draw, so the same data).
  torch::Tensor sum;
  for (std::int64_t s = 0; s < n; s += chunk) {
    const auto x = batch(s).sum(0);
    sum = sum.defined() ? sum + x : x;
  }
  const auto mean = sum / static_cast<double>(n);  // [*S], double
  const auto params = p.network->params_for_mean(mean.to(p.dtype));
  const double d = static_cast<double>(p.data.dimension());
  double squared = 0, nll = 0;
  for (std::int64_t s = 0; s < n; s += chunk) {
    const auto x = batch(s);
    squared += (x - mean).pow(2).sum().item<double>();
    if (params.defined()) {
      const auto xm = x.to(p.dtype);
      nll -= p.network->log_likelihood(xm, params.unsqueeze(0).expand_as(xm)).to(torch::kDouble).sum().item<double>();
    }
  }
  ConstraintBaseline b;
  b.examples = n;
  b.squared_error_per_dim = squared / (static_cast<double>(n) * d);
  if (params.defined()) b.nll_per_dim = nll / (static_cast<double>(n) * d);
  return b;
}

namespace {

CollapseOptions collapse_options(const nlohmann::json& training) {
  CollapseOptions o;
  o.examples = training.value("diagnostics_examples", o.examples);
  o.threshold = training.value("active_threshold", o.threshold);
  o.patience = training.value("collapse_patience", o.patience);
  return o;
}

// This process's rows of a step's batch x: all of them, or a rank's shard (x is narrowed to it).
BatchShard shard_rows(torch::Tensor& x, const ProcessGroup* group) {
  BatchShard shard;
  shard.global = shard.size = x.size(0);
  if (group) {
    shard = shard_of(x.size(0), group->rank(), group->world());
    x = x.narrow(0, shard.offset, shard.size);
  }
  return shard;
}

// A step's loss, distortion, rate, nll/dim and sq/dim (kSums values, double, on the device).
torch::Tensor step_statistics(const ObjectiveTerms& terms, double data_dim) {
  return torch::stack({terms.loss.detach().to(torch::kDouble), terms.distortion.mean().to(torch::kDouble),
                       terms.rate.mean().to(torch::kDouble), terms.distortion.mean().to(torch::kDouble) / data_dim,
                       terms.squared_error.mean().to(torch::kDouble) / data_dim});
}

// The refusal of step `step` (counted from 0) for its non-finite loss; s: its statistics.
Error non_finite_loss(std::int64_t step, const double* s, double beta) {
  return Error(fmt::format("training step {}", step + 1),
               fmt::format("non-finite loss {} (distortion {}, rate {}, beta {}); the last checkpoint before it is "
                           "intact: lower training.learning_rate or check the data",
                           s[kLoss], s[kDistortion], s[kRate], beta));
}

// What the scheduler is told after step `step` (counted from 0); s: the step's statistics.
SchedulerInput scheduler_input(std::int64_t step, std::int64_t steps_per_epoch, const double* s) {
  SchedulerInput input;
  input.step = step;
  input.epoch = static_cast<double>(step + 1) / steps_per_epoch;
  input.nll_per_dim = s[kNllPerDim];
  input.squared_error_per_dim = s[kSqPerDim];
  input.rate = s[kRate];
  return input;
}

// The progress line's fields at the end of a logging interval.
std::string interval_fields(const nlohmann::json& m) {
  return fmt::format("loss {} rate {} beta {} C {} {}", short_number(m["loss"]), short_number(m["rate"]),
                     short_number(m["beta"]), short_number(m.value("C_hat", m["nll_per_dim"].get<double>())),
                     m["phase"].get<std::string>());
}

}  // namespace

Trainer::Trainer(Pipeline& pipeline, std::string run_dir, bool interactive, const std::atomic<bool>* stop)
    : p_(pipeline),
      run_dir_(std::move(run_dir)),
      interactive_(interactive),
      stop_(stop),
      collapse_(pipeline, collapse_options(pipeline.config.at("training"))) {
  const auto& t = p_.config.at("training");
  iterations_ = t.at("iterations");
  batch_size_ = t.at("batch_size");
  log_every_ = t.at("log_every");
  checkpoint_every_ = t.at("checkpoint_every");
  keep_checkpoints_ = t.at("keep_checkpoints");
  const double lr = t.at("learning_rate");
  prior_rate_weight_one_ = t.value("prior_loss_weight", std::string("beta")) == "one";
  const double prior_lr = t.at("prior_learning_rate").get<double>() > 0 ? t.at("prior_learning_rate").get<double>() : lr;
  // Two parameter groups with their own optimisers: a scheduler can hold the prior frozen
  // (REWO's initial phase) without its Adam moments or step count moving.
  // FusedAdam (fused_adam.hpp): the same update in one pass per tensor. PRIORLAB_REFERENCE_STEP=1
  // selects the step as it was before issue 11 (LibTorch's Adam, zero-filled gradients), the
  // "before" of docs/performance.md and of Training.OptimisedStepMatchesTheReferenceStep.
  const char* reference = std::getenv("PRIORLAB_REFERENCE_STEP");
  reference_step_ = reference && std::string(reference) == "1";
  const auto make_adam = [&](std::vector<torch::Tensor> params, double rate) -> std::unique_ptr<torch::optim::Adam> {
    if (!reference_step_) return std::make_unique<FusedAdam>(std::move(params), torch::optim::AdamOptions(rate));
    return std::make_unique<torch::optim::Adam>(std::move(params), torch::optim::AdamOptions(rate));
  };
  opt_network_ = make_adam(p_.network->parameters(), lr);
  if (!p_.prior->parameters().empty()) opt_prior_ = make_adam(p_.prior->parameters(), prior_lr);
  interval_sums_ = torch::zeros({kSums}, torch::TensorOptions().dtype(torch::kDouble).device(p_.device));
  session_start_ = std::chrono::steady_clock::now();
}

void Trainer::set_process_group(ProcessGroup* group) {
  group_ = group;
  writer_ = !group || group->rank() == 0;
  shared_params_ = p_.network->parameters();
  for (const auto& t : p_.prior->parameters()) shared_params_.push_back(t);
}

// Gradients are dropped before each step rather than zero-filled (optimizer.zero_grad()), so
// that backward hands its gradient buffers over instead of adding them onto zeros: one memset
// and one addition pass fewer per parameter. 0 + g == g, so the values are the same.
void Trainer::clear_gradients() {
  if (reference_step_) {
    opt_network_->zero_grad();
    if (opt_prior_) opt_prior_->zero_grad();
    return;
  }
  for (auto* opt : {opt_network_.get(), opt_prior_.get()})
    if (opt)
      for (auto& group : opt->param_groups())
        for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
}

// A parameter the loss did not reach keeps a zero gradient, as zero_grad() would have left it:
// Adam then still decays its moments and moves it, exactly as before.
void Trainer::fill_missing_gradients() {
  if (reference_step_) return;
  for (auto* opt : {opt_network_.get(), opt_prior_.get()})
    if (opt)
      for (auto& group : opt->param_groups())
        for (auto& p : group.params())
          if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
}

double Trainer::wall_seconds() const {
  return wall_before_ + std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
}

torch::Tensor Trainer::batch_indices(std::int64_t step) {
  const std::int64_t epoch = step / p_.steps_per_epoch, within = step % p_.steps_per_epoch;
  if (epoch != perm_epoch_) {
    auto gen = at::detail::createCPUGenerator(mix_seed(p_.seed, 0x6261746368ULL /* "batch" */, epoch));
    perm_ = torch::randperm(p_.dataset->size(Split::Train), gen, torch::TensorOptions().dtype(torch::kLong));
    perm_epoch_ = epoch;
  }
  return perm_.slice(0, within * batch_size_, (within + 1) * batch_size_);
}

// What every step of train() uses: the plugins' names (for call_plugin), the data dimension, the progress.
struct Trainer::StepContext {
  std::string dataset_name, objective_name, scheduler_name, prior_name;
  double data_dim;
  Progress& progress;
};

void Trainer::train(std::int64_t pause_at) {
  const std::string dataset_name = p_.config["dataset"]["plugin"];
  const std::string objective_name = p_.config["objective"]["plugin"];
  const std::string scheduler_name = p_.config["scheduler"]["plugin"];
  const std::string prior_name = p_.config["prior"]["plugin"];
  const double data_dim = static_cast<double>(p_.data.dimension());
  start_training(scheduler_name);
  Progress progress("train", iterations_, interactive_ && writer_);
  StepContext context{dataset_name, objective_name, scheduler_name, prior_name, data_dim, progress};
  p_.network->train();
  p_.prior->train();
  // Every rank starts from rank 0's parameters (they agree already when all were initialised
  // from the seed or loaded from one checkpoint: this makes it so whatever happened).
  if (group_) group_->broadcast(shared_params_);
  while (step_ < iterations_) {
    // A Ctrl-C reaches ranks at different moments: each step's statistics carry the flag, so
    // that every rank stops before the same step.
    const bool stop_now = group_ ? stop_agreed_ : (stop_ && stop_->load());
    if (stop_now || step_ == pause_at) {
      progress.finish();
      save_checkpoint_agreed();
      return;
    }
    train_step(context);
  }
  progress.finish();
}

// The guard's report (its warning said) and the TensorBoard event file, before a session's first step.
void Trainer::start_training(const std::string& scheduler_name) {
  // The guard (DESIGN §4): can the scheduler's threshold bind at all on this data?
  const ConstraintBaseline baseline = constraint_baseline(p_);
  constraint_guard_ = call_plugin(scheduler_name, [&] { return p_.scheduler->check_baseline(baseline); });
  if (writer_ && constraint_guard_.is_object() && constraint_guard_.contains("warning"))
    std::cerr << "priorlab: warning: " << constraint_guard_["warning"].get<std::string>() << std::endl;
  // The event file keeps the steps this session starts from, so a resume logs nothing twice.
  if (writer_ && !events_ && p_.config.value("tensorboard", true) && tensorboard_enabled()) {
    try {
      events_ = EventWriter::open(run_dir_, step_);
    } catch (const std::exception& e) {
      std::cerr << "priorlab: warning: " << one_line(e.what()) << "; no TensorBoard records this session" << std::endl;
    }
  }
}

// One step (batch, objective, optimisers, scheduler), then the interval's record and checkpoint when due.
void Trainer::train_step(StepContext& c) {
  const double beta = p_.scheduler->beta();
  const bool train_prior = p_.scheduler->train_prior();
  // Everything random in this step is seeded by (seed, step): resume-exact.
  torch::manual_seed(mix_seed(p_.seed, 0x73746570ULL /* "step" */, step_));
  const auto indices = batch_indices(step_);
  const Batch batch = call_plugin(c.dataset_name, [&] {
    return p_.dataset->get(Split::Train, indices, mix_seed(p_.seed, 0x64726177ULL /* "draw" */, step_));
  });
  auto x = batch.x.to(p_.device, p_.dtype);
  // Data-parallel: this rank's rows of the global batch, and the noise of the whole batch
  // (sample_diag_gaussian keeps this shard's rows), so N ranks draw what one process draws.
  const BatchShard shard = shard_rows(x, group_);
  const BatchShardScope shard_scope(shard);
  PriorStep prior_step;
  prior_step.step = step_;
  prior_step.epoch = static_cast<double>(step_) / p_.steps_per_epoch;
  prior_step.indices = group_ ? indices.narrow(0, shard.offset, shard.size) : indices;
  call_plugin(c.prior_name, [&] { p_.prior->begin_step(prior_step); });
  const double shard_weight = static_cast<double>(shard.size) / static_cast<double>(shard.global);

  clear_gradients();
  const ObjectiveTerms terms =
      call_plugin(c.objective_name, [&] { return p_.objective->compute(x, *p_.network, *p_.prior, beta); });
  // The scheduler's inputs, computed in one place: one small host transfer per step.
  auto stats = step_statistics(terms, c.data_dim);
  const torch::Tensor host = global_statistics(stats, shard_weight);
  const double* s = host.data_ptr<double>();
  if (!std::isfinite(s[kLoss])) {
    c.progress.finish();
    throw non_finite_loss(step_, s, beta);
  }
  update_parameters(terms.loss, beta, train_prior, shard_weight);
  const SchedulerInput input = scheduler_input(step_, p_.steps_per_epoch, s);
  call_plugin(c.scheduler_name, [&] { p_.scheduler->update(input); });

  interval_sums_ += stats;
  ++interval_steps_;
  ++step_;
  ++session_steps_;
  report_step(c);
  if ((checkpoint_every_ > 0 && step_ % checkpoint_every_ == 0) || step_ == iterations_) save_checkpoint_agreed();
}

// The step's statistics on the host; in a group the global batch's (stats too), and the stop flags agreed.
torch::Tensor Trainer::global_statistics(torch::Tensor& stats, double shard_weight) {
  if (!group_) return stats.to(torch::kCPU);
  // The global batch's means: each rank's means weighted by its share of the rows, summed;
  // the last value counts the ranks asked to stop.
  auto reduced = torch::cat({(stats * shard_weight).to(torch::kCPU),
                             torch::tensor({stop_ && stop_->load() ? 1.0 : 0.0}, torch::kDouble)});
  group_->sum(reduced, fmt::format("summing the statistics of step {}", step_ + 1));
  stop_agreed_ = reduced[kSums].item<double>() > 0;
  torch::Tensor host = reduced.slice(0, 0, kSums);
  stats = host.to(p_.device);
  return host;
}

// Backward, the gradients summed over the ranks, then the optimisers' steps (the prior's while it trains).
void Trainer::update_parameters(const torch::Tensor& loss, double beta, bool train_prior, double shard_weight) {
  loss.backward();
  fill_missing_gradients();
  // The global batch's gradient: the sum over ranks of shard_weight x each rank's mean.
  if (group_) group_->reduce_gradients(shared_params_, shard_weight);
  opt_network_->step();
  if (opt_prior_ && train_prior) {
    // The lambda form (Eq. 10, 11): the prior's parameters appear only in beta * rate, so
    // dividing their gradient by beta gives them the rate's gradient with weight 1, which
    // Adam's normalisation does not give while beta moves by orders of magnitude.
    if (prior_rate_weight_one_ && beta > 0)
      for (auto& group : opt_prior_->param_groups())
        for (auto& t : group.params())
          if (t.grad().defined()) t.mutable_grad().div_(beta);
    opt_prior_->step();
  }
}

// After a step: at an interval's end its record, progress line and collapse warnings; else the bar.
void Trainer::report_step(StepContext& c) {
  if (step_ % log_every_ == 0 || step_ == iterations_) {
    log_interval();
    const std::string fields = interval_fields(last_metrics_);
    if (writer_) {
      c.progress.line(step_, fields);
      for (const auto& said : collapse_lines_) std::cerr << "priorlab: warning: " << said << std::endl;
      c.progress.update(step_, fields);
    }
  } else if (writer_) {
    c.progress.update(step_, last_metrics_.empty() ? "" : fmt::format("beta {}", short_number(p_.scheduler->beta())));
  }
}

nlohmann::json Trainer::distributed_summary() const {
  if (!group_) return nullptr;
  const double session = std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
  const double steps = static_cast<double>(std::max<std::int64_t>(1, session_steps_));
  return {{"world", group_->world()},
          {"backend", group_->backend()},
          {"steps_this_session", session_steps_},
          {"allreduce_calls_per_step", static_cast<double>(group_->reduce_calls()) / steps},
          {"allreduce_mb_per_step", static_cast<double>(group_->reduced_bytes()) / steps / 1e6},
          {"allreduce_ms_per_step", 1e3 * group_->reduce_seconds() / steps},
          {"allreduce_share_of_training", session > 0 ? group_->reduce_seconds() / session : 0.0}};
}

void Trainer::log_interval() {
  const auto sums = (interval_sums_ / static_cast<double>(interval_steps_)).to(torch::kCPU);
  const double* a = sums.data_ptr<double>();
  nlohmann::json m = {{"step", step_},
                      {"epoch", static_cast<double>(step_) / p_.steps_per_epoch},
                      {"loss", a[kLoss]},
                      {"distortion", a[kDistortion]},
                      {"rate", a[kRate]},
                      {"nll_per_dim", a[kNllPerDim]},
                      {"squared_error_per_dim", a[kSqPerDim]},
                      {"beta", p_.scheduler->beta()},
                      {"phase", p_.scheduler->phase()},
                      {"train_prior", p_.scheduler->train_prior()},
                      {"seconds", wall_seconds()}};
  for (const auto& [k, v] : p_.scheduler->metrics()) m[k] = v;
  // Is every stochastic layer alive? Measured by the writer alone, on its probe set.
  collapse_lines_.clear();
  if (writer_) collapse_lines_ = collapse_.observe(step_, p_.scheduler->train_prior(), a[kRate], m);
  const auto metrics_path = fs::path(run_dir_) / "metrics.jsonl";
  if (writer_) {
    std::ofstream out(metrics_path, std::ios::app);
    out << m.dump() << "\n";
    out.close();
    if (!out) throw Error(metrics_path.string(), std::string("cannot append the step's record: ") + std::strerror(errno));
  }
  if (events_) {
    try {
      events_->scalars(step_, train_scalars(m));
    } catch (const std::exception& e) {  // the curves are a view: losing them is said, never fatal
      std::cerr << "priorlab: warning: " << one_line(e.what()) << "; no more TensorBoard records this session"
                << std::endl;
      events_.reset();
    }
  }
  last_metrics_ = std::move(m);
  interval_sums_.zero_();
  interval_steps_ = 0;
}

void Trainer::save_checkpoint_agreed() {
  run_on_rank0(group_, fmt::format("writing the checkpoint of step {}", step_), [&] { save_checkpoint(); });
}

void Trainer::save_checkpoint() {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive network, prior, opt_network, opt_prior;
  p_.network->save(network);
  p_.prior->save(prior);
  opt_network_->save(opt_network);
  if (opt_prior_) opt_prior_->save(opt_prior);
  archive.write("network", network);
  archive.write("prior", prior);
  archive.write("optimizer_network", opt_network);
  archive.write("optimizer_prior", opt_prior);
  // The partial logging interval travels too, so a run stopped between two log lines logs
  // exactly what an uninterrupted run would.
  const auto sums = interval_sums_.to(torch::kCPU).contiguous();
  const nlohmann::json state = {{"step", step_},
                                {"identity", run_identity(p_.config)},
                                {"threads", at::get_num_threads()},
                                {"world", group_ ? group_->world() : 1},
                                {"wall_seconds", wall_seconds()},
                                {"scheduler", p_.scheduler->state()},
                                {"last_metrics", last_metrics_},
                                {"collapse", collapse_.state()},
                                {"interval_steps", interval_steps_},
                                {"interval_sums", std::vector<double>(sums.data_ptr<double>(), sums.data_ptr<double>() + kSums)}};
  archive.write("trainer", c10::IValue(state.dump()));
  // Serialised in memory first: LibTorch's file writer aborts the process when the disk fills
  // (it throws from a destructor); write_file_atomic turns any failed write into an Error.
  std::ostringstream buffer;
  archive.save_to(buffer);
  const std::string bytes = buffer.str();
  const auto dir = fs::path(run_dir_) / "checkpoints";
  fs::create_directories(dir);
  const auto path = (dir / checkpoint_name(step_)).string();
  // The file, its checksum file and both temporaries, with a margin of 64 KiB.
  check_free_space(dir, bytes.size() + (64u << 10), fs::path(path).filename().string());
  write_file_atomic(checksum_path(path), checksum_record(bytes).dump() + "\n");
  try {
    write_file_atomic(path, bytes);
  } catch (...) {
    std::error_code ec;
    fs::remove(checksum_path(path), ec);  // no record without its checkpoint
    throw;
  }
  auto all = list_checkpoints(dir.string());
  for (size_t i = 0; i + keep_checkpoints_ < all.size(); ++i) {
    fs::remove(all[i].second);
    fs::remove(checksum_path(all[i].second));
  }
}

void Trainer::load_checkpoint(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file(path);
  } catch (const std::exception& e) {
    throw DamagedCheckpoint(path, std::string("cannot read the checkpoint: ") + one_line(e.what()));
  }
  if (const auto bad = verify_checksum(path, bytes); !bad.empty())
    throw DamagedCheckpoint(path, "damaged (bit rot or a torn copy): " + bad);
  // Checked here too, sidecar or not: LibTorch reads a damaged container without noticing and
  // can crash on it (checkpoints written before the sidecar existed have none).
  if (const auto bad = check_zip_container(bytes); !bad.empty())
    throw DamagedCheckpoint(path, "damaged (bit rot or a torn copy): " + bad);
  torch::serialize::InputArchive archive, network, prior, opt_network, opt_prior;
  nlohmann::json state;
  try {
    std::istringstream in(bytes);
    archive.load_from(in, p_.device);
    c10::IValue text;
    archive.read("trainer", text);
    state = nlohmann::json::parse(text.toStringRef());
    archive.read("network", network);
    archive.read("prior", prior);
    archive.read("optimizer_network", opt_network);
    archive.read("optimizer_prior", opt_prior);
  } catch (const c10::Error& e) {
    throw DamagedCheckpoint(path, std::string("cannot read the checkpoint: ") + one_line(e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw DamagedCheckpoint(path, std::string("cannot read the checkpoint: ") + one_line(e.what()));
  }
  // Does it belong to this pipeline? The identity record first (checkpoints written before it
  // existed have none), then every tensor's shape and dtype, before anything is loaded.
  if (state.contains("identity")) {
    const auto difference = first_difference(state["identity"], run_identity(p_.config));
    if (!difference.empty())
      throw Error(path, "belongs to another pipeline (config.json edited, or a checkpoint copied from another run): " +
                            difference);
  }
  check_module_archive(*p_.network, network, path + " (network)");
  check_module_archive(*p_.prior, prior, path + " (prior)");
  try {
    p_.network->load(network);
    p_.prior->load(prior);
    opt_network_->load(opt_network);
    if (opt_prior_) opt_prior_->load(opt_prior);
    step_ = state.at("step");
    wall_before_ = state.at("wall_seconds");
    checkpoint_threads_ = state.value("threads", std::int64_t{0});
    checkpoint_world_ = state.value("world", std::int64_t{0});
    last_metrics_ = state.value("last_metrics", nlohmann::json());
    collapse_.load_state(state.value("collapse", nlohmann::json()));
    p_.scheduler->load_state(state.at("scheduler"));
    interval_steps_ = state.value("interval_steps", 0);
    interval_sums_ = torch::tensor(state.value("interval_sums", std::vector<double>(kSums, 0.0)), torch::kDouble).to(p_.device);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error(path, std::string("cannot restore checkpoint (does it belong to this pipeline?): ") +
                          e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(path, std::string("cannot restore checkpoint: ") + e.what());
  }
  session_start_ = std::chrono::steady_clock::now();
}

std::int64_t Trainer::restore_latest() {
  const auto all = list_checkpoints((fs::path(run_dir_) / "checkpoints").string());
  const auto metrics_path = fs::path(run_dir_) / "metrics.jsonl";
  bool restored = false;
  for (auto it = all.rbegin(); it != all.rend() && !restored; ++it) {
    try {
      load_checkpoint(it->second);
      restored = true;
    } catch (const DamagedCheckpoint& e) {
      const auto next = std::next(it);
      if (writer_)
        std::cerr << "priorlab: warning: " << one_line(e.what()) << "; "
                  << (next != all.rend() ? "falling back to " + fs::path(next->second).filename().string()
                                         : std::string("no earlier checkpoint: starting from step 0"))
                  << std::endl;
    }
  }
  if (group_) {
    // Every rank reads the run folder (a shared file system across nodes): they must agree.
    const auto steps = group_->gather(step_, "comparing the checkpoints the ranks restored");
    if (std::adjacent_find(steps.begin(), steps.end(), std::not_equal_to<>()) != steps.end())
      throw Error(group_->name(), fmt::format("the ranks restored different steps ({}): do they all see the same "
                                              "run folder?",
                                              fmt::join(steps, ", ")));
  }
  if (!writer_) return step_;
  if (!restored) {
    fs::remove(metrics_path);
    return 0;
  }
  // Keep only the metrics lines the checkpoint covers: the rest will be written again. A line
  // that does not parse (cut short by a kill, or damaged) is dropped alone.
  if (fs::exists(metrics_path)) {
    std::ifstream in(metrics_path);
    std::string line, kept;
    std::int64_t number = 0, dropped = 0;
    while (std::getline(in, line)) {
      ++number;
      try {
        if (nlohmann::json::parse(line).at("step").get<std::int64_t>() <= step_) kept += line + "\n";
      } catch (const std::exception&) {
        if (!line.empty() && dropped++ == 0)
          std::cerr << fmt::format("priorlab: warning: {}:{}: not a metrics record; dropped", metrics_path.string(),
                                   number)
                    << std::endl;
      }
    }
    write_file_atomic(metrics_path.string(), kept);
  }
  return step_;
}

}  // namespace priorlab::host
