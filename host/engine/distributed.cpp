#include "engine/distributed.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <regex>
#include <thread>

#include <fmt/format.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/utils/tensor_flatten.h>
#include <torch/version.h>
#if PRIORLAB_WITH_NCCL  // host/engine/CMakeLists.txt: a CUDA LibTorch whose ProcessGroupNCCL.hpp compiles
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "engine/process.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"

extern char** environ;

namespace priorlab::host {

namespace {

std::map<std::string, std::string> process_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// A variable's value as an integer in [lo, hi], or an Error naming the variable.
long integer_variable(const std::map<std::string, std::string>& env, const std::string& name, long lo, long hi,
                      const std::string& range) {
  const auto it = env.find(name);
  if (it == env.end()) throw Error(name, "not set, but the other variables of a " + range + " launch are");
  const std::string& v = it->second;
  static const std::regex integer("[0-9]{1,9}");
  if (!std::regex_match(v, integer) || std::stol(v) < lo || std::stol(v) > hi)
    throw Error(name, fmt::format("expected an integer in [{}, {}], found \"{}\"", lo, hi, v));
  return std::stol(v);
}

}  // namespace

std::string first_slurm_host(const std::string& nodelist) {
  // "prefix[03-05,9]suffix,other" -> "prefix03suffix"; "a,b" -> "a".
  std::string first;
  int depth = 0;
  for (char c : nodelist) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) break;
    first += c;
  }
  const auto open = first.find('[');
  if (open == std::string::npos) return first;
  const auto close = first.find(']', open);
  if (close == std::string::npos) throw Error("SLURM_JOB_NODELIST", "unbalanced '[' in \"" + nodelist + "\"");
  std::string range = first.substr(open + 1, close - open - 1);
  range = range.substr(0, range.find(','));
  range = range.substr(0, range.find('-'));
  return first.substr(0, open) + range + first.substr(close + 1);
}

std::optional<Launch> launch_from_environment(const std::map<std::string, std::string>* given) {
  const auto env = given ? *given : process_environment();
  const auto has = [&](const char* k) { return env.count(k) > 0; };
  Launch l;
  if (has("RANK") || has("WORLD_SIZE")) {
    l.source = "torchrun";
    l.world = static_cast<int>(integer_variable(env, "WORLD_SIZE", 1, 1 << 20, "torchrun-style"));
    l.rank = static_cast<int>(integer_variable(env, "RANK", 0, l.world - 1, "torchrun-style"));
    l.local_rank = has("LOCAL_RANK") ? static_cast<int>(integer_variable(env, "LOCAL_RANK", 0, l.world - 1, "torchrun-style"))
                                     : l.rank;
    if (l.world > 1) {
      if (!has("MASTER_ADDR") || env.at("MASTER_ADDR").empty())
        throw Error("MASTER_ADDR", "not set: a torchrun-style launch needs the address of rank 0");
      l.master_addr = env.at("MASTER_ADDR");
      l.master_port = static_cast<int>(integer_variable(env, "MASTER_PORT", 1, 65535, "torchrun-style"));
    }
    return l;
  }
  // Inside an srun step only: a batch script itself also has SLURM_PROCID=0 and the job's
  // SLURM_NTASKS, and a run started there (or a sweep's child) must not wait for ranks that
  // were never started. srun alone sets SLURM_STEP_NUM_TASKS.
  if (has("SLURM_PROCID") && has("SLURM_STEP_NUM_TASKS")) {
    l.source = "slurm";
    l.world = static_cast<int>(integer_variable(env, "SLURM_STEP_NUM_TASKS", 1, 1 << 20, "Slurm"));
    l.rank = static_cast<int>(integer_variable(env, "SLURM_PROCID", 0, l.world - 1, "Slurm"));
    l.local_rank = has("SLURM_LOCALID") ? static_cast<int>(integer_variable(env, "SLURM_LOCALID", 0, l.world - 1, "Slurm"))
                                        : 0;
    if (l.world > 1) {
      if (has("MASTER_ADDR") && !env.at("MASTER_ADDR").empty()) {
        l.master_addr = env.at("MASTER_ADDR");
      } else {
        const char* list = has("SLURM_STEP_NODELIST") ? "SLURM_STEP_NODELIST" : "SLURM_JOB_NODELIST";
        if (!has(list)) throw Error("SLURM_JOB_NODELIST", "not set, and no MASTER_ADDR: where does rank 0 run?");
        l.master_addr = first_slurm_host(env.at(list));
      }
      l.master_port = has("MASTER_PORT") ? static_cast<int>(integer_variable(env, "MASTER_PORT", 1, 65535, "Slurm"))
                                         : c10d::TCPStoreOptions::kDefaultPort;
    }
    return l;
  }
  return std::nullopt;
}

BatchShard shard_of(std::int64_t global, int rank, int world) {
  BatchShard s;
  s.global = global;
  s.offset = global * rank / world;
  s.size = global * (rank + 1) / world - s.offset;
  return s;
}

DistributedOptions distributed_options_of(const nlohmann::json& pipeline) {
  DistributedOptions o;
  if (!pipeline.contains("distributed")) return o;
  const auto& d = pipeline.at("distributed");
  o.backend = d.value("backend", o.backend);
  o.timeout_s = d.value("timeout_s", o.timeout_s);
  return o;
}

// Every rank counts up its key in the store twice a second from a thread of its own, over a
// connection of its own: when a collective fails, the counters that stopped name the ranks that
// died or hang (a rank that computes keeps counting).
// The class the backends derive from: c10d::ProcessGroup in LibTorch 1.x (Debian's 1.13),
// c10d::Backend from 2.0 (pip's torch, the GPU check's build).
#if TORCH_VERSION_MAJOR >= 2
using CollectiveGroup = c10d::Backend;
#else
using CollectiveGroup = c10d::ProcessGroup;
#endif

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<CollectiveGroup> group;
  torch::Device wire{torch::kCPU};  // where collectives' tensors must be: the CUDA device for NCCL
  c10::intrusive_ptr<c10d::TCPStore> beat_store;
  std::thread beat;
  std::atomic<bool> stop{false};
  ~Impl() {
    stop = true;
    if (beat.joinable()) beat.join();
  }
};

namespace {
std::string beat_key(int rank) { return "priorlab/beat/" + std::to_string(rank); }
}  // namespace

ProcessGroup::ProcessGroup() : impl_(std::make_unique<Impl>()) {}
ProcessGroup::~ProcessGroup() = default;

std::string ProcessGroup::name() const { return fmt::format("rank {} of {}", rank(), world()); }

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const Launch& launch, const DistributedOptions& options,
                                                    const torch::Device& device) {
  std::unique_ptr<ProcessGroup> pg(new ProcessGroup());
  pg->launch_ = launch;
  pg->backend_ = options.backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : options.backend;
#if PRIORLAB_WITH_NCCL
  if (pg->backend_ == "nccl" && !device.is_cuda())
    throw Error("/distributed/backend", fmt::format("nccl reduces CUDA tensors and the device is {}: use \"gloo\", or "
                                                    "\"device\": \"cuda\"",
                                                    device.str()));
#else
  if (pg->backend_ == "nccl")
    throw Error("/distributed/backend", "nccl needs a LibTorch built with CUDA and NCCL, and this build has neither "
                                        "(Debian's libtorch is CPU-only): use \"gloo\"");
#endif
  if (pg->backend_ != "gloo" && pg->backend_ != "nccl")
    throw Error("/distributed/backend", fmt::format("expected auto, gloo or nccl, found \"{}\"", pg->backend_));
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(options.timeout_s * 1000));
  try {
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(launch.master_port);
    so.isServer = launch.rank == 0;
    so.numWorkers = static_cast<std::size_t>(launch.world);
    so.waitWorkers = true;
    so.timeout = timeout;
    pg->impl_->store = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, so);
#if PRIORLAB_WITH_NCCL
    if (pg->backend_ == "nccl") {
      auto no = c10d::ProcessGroupNCCL::Options::create();
      no->timeout = timeout;
      pg->impl_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(pg->impl_->store, launch.rank, launch.world, no);
      pg->impl_->wire = device;
    }
#endif
    if (pg->backend_ == "gloo") {
      auto go = c10d::ProcessGroupGloo::Options::create(timeout);
      const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
      const bool loopback = launch.master_addr == "localhost" || launch.master_addr.rfind("127.", 0) == 0;
      go->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                            : loopback        ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                              : c10d::ProcessGroupGloo::createDefaultDevice());
      pg->impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(pg->impl_->store, launch.rank, launch.world, go);
    }
    c10d::TCPStoreOptions beat;
    beat.port = so.port;
    beat.isServer = false;
    beat.waitWorkers = false;
    beat.timeout = std::chrono::milliseconds(5000);
    pg->impl_->beat_store = c10::make_intrusive<c10d::TCPStore>(launch.master_addr, beat);
    Impl* impl = pg->impl_.get();
    const int rank = launch.rank;
    impl->beat = std::thread([impl, rank] {
      while (!impl->stop) {
        try {
          impl->beat_store->add(beat_key(rank), 1);
        } catch (const std::exception&) {
          return;  // the store is gone (rank 0 ended): nothing left to tell
        }
        for (int i = 0; i < 10 && !impl->stop; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
  } catch (const c10::Error& e) {
    throw Error(pg->name(), fmt::format("cannot join the process group at {}:{} within {} s ({}): {}", launch.master_addr,
                                   launch.master_port, options.timeout_s, launch.source,
                                   one_line(e.what_without_backtrace())));
  } catch (const std::exception& e) {
    throw Error(pg->name(), fmt::format("cannot join the process group at {}:{}: {}", launch.master_addr,
                                   launch.master_port, one_line(e.what())));
  }
  return pg;
}

std::string ProcessGroup::silent_ranks() {
  if (!impl_->beat_store) return {};
  try {
    std::vector<std::int64_t> before(world()), after(world());
    for (int r = 0; r < world(); ++r) before[r] = impl_->beat_store->add(beat_key(r), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2000));
    for (int r = 0; r < world(); ++r) after[r] = impl_->beat_store->add(beat_key(r), 0);
    std::vector<int> silent;
    for (int r = 0; r < world(); ++r)
      if (r != rank() && after[r] == before[r]) silent.push_back(r);
    if (silent.empty()) return {};
    return fmt::format("rank {} stopped responding (died, was killed or hangs)", fmt::join(silent, ", "));
  } catch (const std::exception&) {
    return rank() == 0 ? std::string() : "rank 0, which serves the group's store, is gone";
  }
}

void ProcessGroup::wait(const std::string& what, const std::function<void()>& collective) {
  std::string why;
  try {
    collective();
    return;
  } catch (const c10::Error& e) {
    why = one_line(e.what_without_backtrace());
  } catch (const std::exception& e) {
    why = one_line(e.what());
  }
  const std::string who = silent_ranks();
  throw Error(name(), fmt::format("{} failed: {}: {}", what, who.empty() ? "another rank died, hangs or was stopped" : who, why));
}

void ProcessGroup::broadcast(const std::vector<torch::Tensor>& tensors) {
  torch::NoGradGuard no_grad;
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const auto& t : tensors) by_type[t.scalar_type()].push_back(t);
  for (auto& [type, group] : by_type) {
    std::vector<at::Tensor> flat{torch::utils::flatten_dense_tensors(group)};
    wait("broadcasting rank 0's parameters", [&] { impl_->group->broadcast(flat)->wait(); });
    const auto parts = torch::utils::unflatten_dense_tensors(flat[0], group);
    for (size_t i = 0; i < group.size(); ++i) group[i].copy_(parts[i]);
  }
}

void ProcessGroup::reduce_gradients(const std::vector<torch::Tensor>& params, double weight, std::int64_t bucket_bytes) {
  torch::NoGradGuard no_grad;
  // Buckets of one dtype, filled in parameter order up to bucket_bytes (a larger tensor alone).
  std::vector<std::vector<torch::Tensor>> buckets;
  std::int64_t bytes = bucket_bytes;
  c10::ScalarType type = c10::ScalarType::Undefined;
  for (const auto& p : params) {
    const auto& g = p.grad();
    if (!g.defined()) continue;
    const std::int64_t b = g.numel() * static_cast<std::int64_t>(g.element_size());
    if (buckets.empty() || g.scalar_type() != type || bytes + b > bucket_bytes) {
      buckets.emplace_back();
      bytes = 0;
      type = g.scalar_type();
    }
    buckets.back().push_back(g);
    bytes += b;
  }
  for (auto& bucket : buckets) {
    std::vector<at::Tensor> flat{torch::utils::flatten_dense_tensors(bucket)};
    if (weight != 1.0) flat[0].mul_(weight);
    allreduce(flat[0], "all-reducing gradients");
    const auto parts = torch::utils::unflatten_dense_tensors(flat[0], bucket);
    for (size_t i = 0; i < bucket.size(); ++i) bucket[i].copy_(parts[i]);
  }
}

void ProcessGroup::allreduce(const at::Tensor& t, const std::string& what) {
  // NCCL reduces device tensors only: a CPU tensor (the step's statistics) goes there and back.
  const bool moved = t.device() != impl_->wire;
  std::vector<at::Tensor> v{moved ? t.to(impl_->wire) : t};
  const auto start = std::chrono::steady_clock::now();
  wait(what, [&] { impl_->group->allreduce(v)->wait(); });
  if (moved) t.copy_(v[0]);
  reduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  reduced_bytes_ += t.numel() * static_cast<std::int64_t>(t.element_size());
  ++reduce_calls_;
}

void ProcessGroup::sum(torch::Tensor& t, const std::string& what) { allreduce(t, what); }

std::vector<std::int64_t> ProcessGroup::gather(std::int64_t value, const std::string& what) {
  const auto on_wire = torch::TensorOptions().dtype(torch::kLong).device(impl_->wire);
  std::vector<at::Tensor> in{torch::tensor({value}, torch::kLong).to(impl_->wire)};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world(); ++r) out[0].push_back(torch::zeros({1}, on_wire));
  wait(what, [&] { impl_->group->allgather(out, in)->wait(); });
  std::vector<std::int64_t> values;
  for (const auto& t : out[0]) values.push_back(t.item<std::int64_t>());
  return values;
}

torch::Tensor ProcessGroup::gather_rows(const torch::Tensor& t, const std::string& what) {
  if (t.dim() == 0) throw Error(name(), what + ": expected a tensor with rows, found a scalar");
  const auto local = t.to(torch::kCPU).contiguous();
  const auto rows = gather(local.size(0), what + " (their counts)");
  const std::int64_t most = *std::max_element(rows.begin(), rows.end());
  auto shape = local.sizes().vec();
  if (most == 0 || (local.numel() == 0 && local.size(0) > 0)) {  // nothing to send: the shape says it all
    shape[0] = std::accumulate(rows.begin(), rows.end(), std::int64_t{0});
    return torch::zeros(shape, local.options());
  }
  // allgather takes equal shapes: every rank sends `most` rows, the last ones padding.
  shape[0] = most;
  auto padded = torch::zeros(shape, local.options().device(impl_->wire));
  padded.slice(0, 0, local.size(0)).copy_(local);
  std::vector<at::Tensor> in{padded};
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < world(); ++r) out[0].push_back(torch::empty_like(padded));
  wait(what, [&] { impl_->group->allgather(out, in)->wait(); });
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < world(); ++r) parts.push_back(out[0][static_cast<size_t>(r)].slice(0, 0, rows[static_cast<size_t>(r)]));
  return torch::cat(parts).to(torch::kCPU);
}

void run_on_rank0(ProcessGroup* group, const std::string& what, const std::function<void()>& f) {
  if (!group) return f();
  std::exception_ptr failure;
  if (group->rank() == 0) {
    try {
      f();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  const auto ok = group->gather(failure ? 0 : 1, "agreeing on " + what);
  if (failure) std::rethrow_exception(failure);
  if (ok.at(0) == 0) throw Error(group->name(), fmt::format("rank 0 failed {} (its message says why)", what));
}

namespace {

volatile std::sig_atomic_t g_children_group = 0;  // the ranks' process group, for the handler

// Each signal is passed on as it comes: the ranks' own handler stops after the current step on
// the first and leaves at once on the second, as a single process does.
extern "C" void forward_signal(int sig) {
  if (g_children_group > 0) ::kill(-static_cast<pid_t>(g_children_group), sig);
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error("--nproc", std::string("cannot open a socket to find a free port: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  if (!ok) throw Error("--nproc", std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(errno));
  return ntohs(a.sin_port);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kFailed;
}

}  // namespace

int run_local_ranks(int nproc, const std::vector<std::string>& args, double grace_s) {
  if (nproc < 1 || nproc > 1024) throw Error("--nproc", fmt::format("expected 1 to 1024 processes, found {}", nproc));
  const std::string self = self_executable();
  const int port = free_local_port();
  const pid_t parent = ::getpid();
  std::vector<pid_t> pids;
  std::vector<std::string> argv_store{self};
  argv_store.insert(argv_store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_store) argv.push_back(a.data());
  argv.push_back(nullptr);
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      if (!pids.empty()) ::kill(-pids.front(), SIGKILL);
      throw Error("--nproc", std::string("cannot start rank ") + std::to_string(r) + ": " + std::strerror(errno));
    }
    if (pid == 0) {
      // The ranks share one process group of their own, so that a terminal's Ctrl-C reaches
      // them once, through this process, not twice; each dies with this process.
      ::setpgid(0, r == 0 ? 0 : static_cast<pid_t>(g_children_group));
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) std::_Exit(kFailed);
      ::signal(SIGINT, SIG_DFL);
      ::signal(SIGTERM, SIG_DFL);
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::execv(self.c_str(), argv.data());
      std::fprintf(stderr, "priorlab: error: rank %d: cannot start %s: %s\n", r, self.c_str(), std::strerror(errno));
      std::_Exit(kFailed);
    }
    if (r == 0) g_children_group = pid;
    ::setpgid(pid, static_cast<pid_t>(g_children_group));  // also from here: no race with the child
    pids.push_back(pid);
  }
  // Wait for all; after the first failure, give the others grace_s to notice and exit.
  std::map<pid_t, int> codes;
  std::optional<std::chrono::steady_clock::time_point> failed_at;
  bool termed = false;
  while (codes.size() < pids.size()) {
    int status = 0;
    const pid_t done = ::waitpid(-static_cast<pid_t>(g_children_group), &status, WNOHANG);
    if (done > 0) {
      codes[done] = exit_code_of(status);
      if (codes[done] != 0 && !failed_at) failed_at = std::chrono::steady_clock::now();
      continue;
    }
    if (done < 0 && errno != EINTR) break;
    if (failed_at) {
      const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - *failed_at).count();
      if (!termed && waited > grace_s) {
        std::fprintf(stderr, "priorlab: error: a rank failed %.0f s ago and others still run: stopping them\n", waited);
        ::kill(-static_cast<pid_t>(g_children_group), SIGTERM);
        termed = true;
      } else if (termed && waited > grace_s + 10) {
        ::kill(-static_cast<pid_t>(g_children_group), SIGKILL);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_children_group = 0;
  const int rank0 = codes.count(pids.front()) ? codes[pids.front()] : kFailed;
  if (rank0 != 0) return rank0;
  for (const pid_t pid : pids)
    if (codes.count(pid) && codes[pid] != 0) return codes[pid];
  return kOk;
}

}  // namespace priorlab::host
