#include "pipeline/pipeline.hpp"

#include <ctime>
#include <filesystem>
#include <optional>
#include <regex>
#include <thread>

#include <fmt/format.h>

#include "priorlab/diagnostics.hpp"
#include "priorlab/io.hpp"
#include "priorlab/torch_compat.hpp"

namespace fs = std::filesystem;

namespace priorlab::host {

namespace {

// "source:line:column" of byte `at` of text.
std::string text_location(const std::string& source, const std::string& text, size_t at) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < std::min(at, text.size()); ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return fmt::format("{}:{}:{}", source, line, col);
}

// The first byte at which brackets outside strings nest deeper than kMaxJsonDepth, else npos.
size_t too_deep_at(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string::npos;
}

// parse_json, but with `syntax_is_string` a syntax error returns nullopt (a --set bare word).
std::optional<json> parse_json_or_word(const std::string& text, const std::string& source, bool syntax_is_string) {
  if (const size_t at = too_deep_at(text); at != std::string::npos)
    throw Error(text_location(source, text, at),
                fmt::format("JSON nested deeper than {} levels (a pipeline needs about 6)", kMaxJsonDepth));
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    if (syntax_is_string) return std::nullopt;
    std::string why = e.what();
    // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
    if (const auto p = why.find(": "); p != std::string::npos) why = why.substr(p + 2);
    throw Error(text_location(source, text, e.byte > 0 ? e.byte - 1 : 0), "malformed JSON: " + why);
  } catch (const json::out_of_range& e) {
    // 406: "number overflow parsing '1e999'": locate the number's first occurrence.
    const std::string why = e.what();
    const auto open = why.find('\''), close = why.rfind('\'');
    const std::string number = open != std::string::npos && close > open ? why.substr(open + 1, close - open - 1) : "";
    const size_t at = number.empty() ? std::string::npos : text.find(number);
    const std::string shown = number.size() > 24 ? number.substr(0, 20) + fmt::format("... ({} characters)", number.size())
                                                 : number;
    throw Error(at == std::string::npos ? source : text_location(source, text, at),
                fmt::format("number {} is out of range (a double holds magnitudes up to about 1.8e308)", shown));
  }
}

}  // namespace

json parse_json(const std::string& text, const std::string& source) { return *parse_json_or_word(text, source, false); }

json load_json_file(const std::string& path) { return parse_json(read_file(path), path); }

void Provenance::set(const std::string& pointer, const json& value, const std::string& origin) {
  erase(pointer);
  by_pointer_[pointer] = origin;
  if (value.is_object())
    for (const auto& [k, v] : value.items()) set(pointer + "/" + pointer_escape(k), v, origin);
  else if (value.is_array())
    for (size_t i = 0; i < value.size(); ++i) set(fmt::format("{}/{}", pointer, i), value[i], origin);
}

void Provenance::erase(const std::string& pointer) {
  // The pointer itself and every key below it ("/a" and "/a/..., not "/ab"), which sort together.
  for (auto it = by_pointer_.lower_bound(pointer); it != by_pointer_.end();) {
    const std::string& k = it->first;
    if (k.compare(0, pointer.size(), pointer) != 0) break;
    if (k.size() == pointer.size() || k[pointer.size()] == '/') it = by_pointer_.erase(it);
    else ++it;
  }
}

std::string Provenance::origin(const std::string& pointer) const {
  for (std::string p = pointer;; p = p.substr(0, p.rfind('/'))) {
    if (const auto it = by_pointer_.find(p); it != by_pointer_.end()) return it->second;
    if (p.empty()) return "";
  }
}

std::string pointer_escape(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? std::string("~0") : c == '/' ? std::string("~1") : std::string(1, c);
  return out;
}

void merge_json(json& base, const json& over, const std::string& origin, Provenance* provenance,
                const std::string& pointer) {
  if (!base.is_object() || !over.is_object()) {
    base = over;
    if (provenance) provenance->set(pointer, over, origin);
    return;
  }
  for (const auto& [key, value] : over.items()) {
    const std::string at = pointer + "/" + pointer_escape(key);
    if (value.is_null()) {
      base.erase(key);
      if (provenance) provenance->erase(at);
    } else if (value.is_object() && base.contains(key) && base[key].is_object()) {
      merge_json(base[key], value, origin, provenance, at);
    } else {
      base[key] = value;
      if (provenance) provenance->set(at, value, origin);
    }
  }
}

namespace {

// One file of an "extends" chain and, before it, everything it extends. `chain` holds the files
// that named this one, outermost first, for the cycle message.
json load_extending(const fs::path& file, std::vector<fs::path>& chain, Provenance* provenance);

// `own`, read from `file` (or given as a value named `file`, whose folder is then the working
// directory's), merged over the pipeline its "extends" names.
json extend(json own, const fs::path& file, std::vector<fs::path>& chain, Provenance* provenance) {
  if (!own.is_object() || !own.contains("extends")) {
    if (provenance) provenance->set("", own, file.string());
    return own;
  }
  const json& extends = own["extends"];
  const std::string at = file.string() + ": /extends";
  if (!extends.is_string() || extends.get<std::string>().empty())
    throw Error(at, fmt::format("expected the path of the pipeline file this one extends, found {}",
                                extends.is_string() ? "an empty string" : extends.type_name()));
  const fs::path named = extends.get<std::string>();
  const fs::path parent = (named.is_absolute() ? named : file.parent_path() / named).lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(parent, ec))
    throw Error(at, fmt::format("\"{}\" names {}, which {}", named.string(), parent.string(),
                                fs::exists(parent, ec) ? "is not a file" : "does not exist"));
  chain.push_back(file);
  const fs::path key = fs::weakly_canonical(parent, ec);
  for (const auto& f : chain)
    if (fs::weakly_canonical(f, ec) == key) {
      std::string cycle;
      for (const auto& c : chain) cycle += c.string() + " -> ";
      throw Error(at, fmt::format("extends form a cycle: {}{}", cycle, parent.string()));
    }
  json merged = load_extending(parent, chain, provenance);
  chain.pop_back();
  if (!merged.is_object())
    throw Error(at, fmt::format("{} holds {} {}, expected a pipeline object to extend", parent.string(),
                                merged.is_array() || merged.is_object() ? "an" : "a", merged.type_name()));
  own.erase("extends");
  merge_json(merged, own, file.string(), provenance);
  return merged;
}

json load_extending(const fs::path& file, std::vector<fs::path>& chain, Provenance* provenance) {
  return extend(load_json_file(file.string()), file, chain, provenance);
}

}  // namespace

json load_pipeline_file(const std::string& path, Provenance* provenance) {
  std::vector<fs::path> chain;
  return load_extending(fs::path(path), chain, provenance);
}

json load_pipeline_value(json raw, const std::string& source, Provenance* provenance) {
  std::vector<fs::path> chain;
  return extend(std::move(raw), fs::path(source), chain, provenance);
}

namespace {

// The walk shared by --set and sweep axes: creates missing objects, indexes existing lists.
void set_parts(json& config, const std::vector<std::string>& parts, const json& value, const std::string& where) {
  json* node = &config;
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    const std::string& p = parts[i];
    if (node->is_array()) {
      // At most 18 digits: an index std::stoul cannot hold is out of the list, not an exception.
      const bool index = !p.empty() && p.find_first_not_of("0123456789") == std::string::npos && p.size() <= 18;
      const std::size_t at = index ? std::stoul(p) : 0;
      if (!index || at >= node->size())
        throw Error(where, fmt::format("'{}' indexes a list of {} entries", p.size() > 24 ? p.substr(0, 20) + "..." : p,
                                       node->size()));
      node = &(*node)[at];
    } else {
      if (node->is_null()) *node = json::object();
      if (!node->is_object()) throw Error(where, fmt::format("'{}' is inside a {}, not an object", p, node->type_name()));
      node = &(*node)[p];
    }
    if (last) *node = value;
  }
}

}  // namespace

std::vector<std::string> split_option_path(const std::string& path, const std::string& where) {
  std::vector<std::string> parts;
  if (!path.empty() && path[0] == '/') {
    // A JSON pointer (RFC 6901): "/a/b/0", with ~1 for '/' and ~0 for '~' inside a key.
    size_t start = 1;
    while (true) {
      const size_t end = path.find('/', start);
      std::string part = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
      for (size_t at = 0; (at = part.find('~', at)) != std::string::npos; ++at) {
        if (at + 1 >= part.size() || (part[at + 1] != '0' && part[at + 1] != '1'))
          throw Error(where, "'~' in a JSON pointer must be followed by 0 or 1 in '" + path + "'");
        part.replace(at, 2, part[at + 1] == '0' ? "~" : "/");
      }
      if (part.empty()) throw Error(where, "empty component in path '" + path + "'");
      parts.push_back(part);
      if (end == std::string::npos) break;
      start = end + 1;
    }
    return parts;
  }
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (part.empty()) throw Error(where, "empty component in key '" + path + "'");
    parts.push_back(part);
  }
  if (parts.empty() || path.back() == '.') throw Error(where, "empty component in key '" + path + "'");
  return parts;
}

std::string option_pointer(const std::string& path, const std::string& where) {
  std::string pointer;
  for (const auto& p : split_option_path(path, where)) pointer += "/" + pointer_escape(p);
  return pointer;
}

void set_option_path(json& config, const std::string& path, const json& value, const std::string& where) {
  set_parts(config, split_option_path(path, where), value, where);
}

void apply_override(json& config, const std::string& assignment, Provenance* provenance) {
  const std::string where = "--set " + assignment;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) throw Error(where, "expected KEY.PATH=VALUE");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  // A pipeline file is UTF-8 (the JSON parser checks); a --set key or bare word must be too, or
  // the config could not be written back (found by fuzz_set).
  try {
    const std::string checked = json(assignment).dump();
  } catch (const json::type_error&) {
    throw Error(where, "is not valid UTF-8");
  }
  // A bare word is a string (--set prior.plugin=vhp); JSON nested too deep, or a number out of
  // range, stays an error.
  const json value = parse_json_or_word(text, where, true).value_or(json(text));
  set_option_path(config, key, value, where);
  if (provenance) provenance->set(option_pointer(key, where), value, where);
}

std::string explain(const std::exception& e) {
  if (const auto* f = dynamic_cast<const fs::filesystem_error*>(&e)) {
    // libstdc++: "filesystem error: cannot create directories: Not a directory [runs/x/checkpoints]"
    std::string what = f->what();
    if (what.rfind("filesystem error: ", 0) == 0) what = what.substr(18);
    if (const auto bracket = what.find(" ["); bracket != std::string::npos) what = what.substr(0, bracket);
    return Error(f->path1().empty() ? "file system" : f->path1().string(), one_line(what)).what();
  }
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return one_line(c->what_without_backtrace());
  return one_line(e.what());
}

int max_threads() { return 4 * static_cast<int>(std::max(1u, std::thread::hardware_concurrency())); }

OptionSet training_options() {
  return OptionSet{}
      .add(Option::integer("iterations", 10000).min(1).help("optimiser steps in total"))
      .add(Option::integer("batch_size", 64).min(1).help("examples per step"))
      .add(Option::real("learning_rate", 1e-4).greater_than(0).help("Adam step size for encoder and decoder"))
      .add(Option::real("prior_learning_rate", 0).min(0).help("Adam step size for the prior (0: same as learning_rate)"))
      .add(Option::string("prior_loss_weight", "beta")
               .choices({"beta", "one"})
               .help("the weight of the rate in the prior's gradient: beta (the beta form, Eq. 12: loss = "
                     "distortion + beta * rate for every parameter) or one (the lambda form, Eq. 10, 11: the "
                     "prior's parameters see the rate with weight 1 whatever beta is)"))
      .add(Option::integer("log_every", 50).min(1).help("steps between metrics.jsonl lines"))
      .add(Option::integer("checkpoint_every", 1000).min(0).help("steps between checkpoints (0: only at the end)"))
      .add(Option::integer("keep_checkpoints", 3).min(1).help("newest checkpoints kept on disk"))
      .add(Option::integer("threads", 0).min(0).max(max_threads()).help(
          "intra-op CPU threads (0: LibTorch's default; at most 4 per core of this machine)"))
      .add(Option::boolean("flush_denormal", true).help(
          "treat subnormal floats (below 1.2e-38 in float32) as zero on the CPU (x86 FTZ/DAZ): a GEMM with "
          "subnormal operands runs up to ~170x slower on Intel CPUs, and a beta of 1e-8 (GECO's clamp) makes the "
          "prior's gradients subnormal (docs/performance.md); false keeps IEEE gradual underflow"))
      .add(Option::integer("diagnostics_examples", 1000).min(0).help(
          "training examples on which every logging interval measures each stochastic layer's active units "
          "and KL (collapse diagnostics; 0: none)"))
      .add(Option::real("active_threshold", kActiveUnitThreshold).greater_than(0).help(
          "a latent dimension is active when Cov_x(E_q[u_d]) exceeds this (Burda et al. 2016)"))
      .add(Option::integer("collapse_patience", 10).min(1).help(
          "logging intervals in a row without an active unit, while the layer trains, before the run says it has "
          "collapsed"));
}

OptionSet distributed_options() {
  return OptionSet{}
      .add(Option::string("backend", "auto").choices({"auto", "gloo", "nccl"}).help(
          "c10d backend of a data-parallel run (docs/distributed.md): auto = nccl on CUDA, gloo on CPU"))
      .add(Option::real("timeout_s", 300).greater_than(0).max(86400).help(
          "seconds a rank waits for the others (joining, each collective) before it gives up"));
}

OptionSet run_options() {
  return OptionSet{}
      .add(Option::string("name", "").help("run name: the folder under --out (default: the config file's stem)"))
      .add(Option::string("description", "").help("free text, kept in the run directory"))
      .add(Option::integer("seed", 0).min(0).help("seeds initialisation, batches and sampling"))
      .add(Option::string("device", "auto").help("auto | cpu | cuda | cuda:N"))
      .add(Option::string("dtype", "float32").choices({"float32", "float64"}).help("floating-point type of parameters and data"))
      .add(Option::string("data_root", "data").help("where prepared dataset files live (scripts/ put them there)"))
      .add(Option::boolean("tensorboard", true).help("write tensorboard/events.out.tfevents.* beside metrics.jsonl"));
}

torch::Device select_device(const std::string& spec) {
  static const std::regex valid("auto|cpu|cuda(:[0-9]+)?");
  if (!std::regex_match(spec, valid))
    throw Error("/device", fmt::format("expected auto, cpu, cuda or cuda:N, found \"{}\"", spec));
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec == "cpu") return torch::kCPU;
  if (!torch::cuda::is_available())
    throw Error("/device", fmt::format("\"{}\" requested but this LibTorch build sees no CUDA device", spec));
  const torch::Device d(spec);
  if (d.has_index() && d.index() >= compat::cuda_device_count())
    throw Error("/device", fmt::format("\"{}\" requested but only {} CUDA device(s) exist", spec, compat::cuda_device_count()));
  return d;
}

torch::Dtype select_dtype(const std::string& spec) {
  if (spec == "float32") return torch::kFloat;
  if (spec == "float64") return torch::kDouble;
  throw Error("/dtype", fmt::format("expected float32 or float64, found \"{}\"", spec));
}

namespace {

const char* const kComponentSections[] = {"dataset", "network", "prior", "objective", "scheduler"};

// A plugin section {"plugin": NAME, "options": {...}} resolved against the plugin's declaration.
json resolve_section(const Registry& registry, const json& section, const std::string& kind, const std::string& path) {
  if (!section.is_object())
    throw Error(path, fmt::format("expected an object {{\"plugin\": NAME, \"options\": {{...}}}}, found {}", section.type_name()));
  for (const auto& [key, value] : section.items())
    if (key != "plugin" && key != "options")
      throw Error(path + "/" + key, fmt::format("unknown key '{}' (expected: plugin, options)", key));
  if (!section.contains("plugin")) throw Error(path, fmt::format("missing \"plugin\": the name of a {} plugin", kind));
  if (!section["plugin"].is_string())
    throw Error(path + "/plugin", fmt::format("expected a string, found {}", section["plugin"].type_name()));
  const std::string name = section["plugin"];
  const PluginEntry& entry = registry.find(name, kind, path + "/plugin");
  return json{{"plugin", name},
              {"options", entry.options.resolve(section.value("options", json()), path + "/options")}};
}

}  // namespace

json resolve_pipeline(const Registry& registry, const json& raw, const std::string& source, const std::string& default_name,
                      const Provenance* provenance) {
  auto locate = [&](const Error& e) {
    // A value set elsewhere (a file this one extends, an override) names where it was set.
    const std::string origin =
        provenance && !e.where().empty() && e.where()[0] == '/' ? provenance->origin(e.where()) : std::string();
    if (origin.empty() || origin == source) return e.located(source);
    return e.located(fmt::format("{} (value from {})", source, origin));
  };
  try {
    if (!raw.is_object()) throw Error("/", fmt::format("expected a pipeline object, found {}", raw.type_name()));
    json out = json::object();
    // Top-level scalars.
    json scalars = json::object();
    for (const auto& o : run_options().items())
      if (raw.contains(o.name())) scalars[o.name()] = raw[o.name()];
    const json resolved = run_options().resolve(scalars, "");
    for (const auto& [k, v] : resolved.items()) out[k] = v;
    if (out["name"].get<std::string>().empty()) out["name"] = default_name;
    check_run_name(out["name"], "/name");
    select_device(out["device"]);  // validates the spelling (and availability) early

    // Every top-level key, in the order the message names them: the run options, the plugin
    // sections, training, evaluators. One list serves the check, the message and the suggestion.
    std::vector<std::string> keys;
    for (const auto& o : run_options().items()) keys.push_back(o.name());
    keys.insert(keys.end(), std::begin(kComponentSections), std::end(kComponentSections));
    keys.insert(keys.end(), {"training", "distributed", "evaluators"});
    for (const auto& [key, value] : raw.items())
      if (std::find(keys.begin(), keys.end(), key) == keys.end())
        throw Error("/" + key, fmt::format("unknown key '{}' (expected: {}){}", key, fmt::join(keys, ", "),
                                           did_you_mean(key, keys)));
    const json defaults = {{"objective", {{"plugin", "elbo"}}}, {"scheduler", {{"plugin", "constant"}}}};
    for (const char* section : kComponentSections) {
      if (!raw.contains(section) && !defaults.contains(section))
        throw Error(std::string("/") + section, fmt::format("missing section: which {} plugin to use", section));
      out[section] = resolve_section(registry, raw.contains(section) ? raw[section] : defaults[section], section,
                                     std::string("/") + section);
    }
    out["training"] = training_options().resolve(raw.value("training", json()), "/training");
    out["distributed"] = distributed_options().resolve(raw.value("distributed", json()), "/distributed");
    out["evaluators"] = json::array();
    const json evaluators = raw.value("evaluators", json::array());
    if (!evaluators.is_array())
      throw Error("/evaluators", fmt::format("expected a list of evaluator sections, found {}", evaluators.type_name()));
    for (size_t i = 0; i < evaluators.size(); ++i)
      out["evaluators"].push_back(resolve_section(registry, evaluators[i], "evaluator", fmt::format("/evaluators/{}", i)));
    return out;
  } catch (const Error& e) {
    throw locate(e);
  }
}

void check_run_name(const std::string& name, const std::string& where) {
  const std::string shown = json(name).dump(-1, ' ', false, json::error_handler_t::replace);  // NUL as \u0000
  auto refuse = [&](const std::string& why) {
    throw Error(where, fmt::format("run name {} {}: a run name is one folder name (letters, digits, -_+=,@ ...)",
                                   shown.size() > 80 ? shown.substr(0, 60) + "...\"" : shown, why));
  };
  if (name.empty()) refuse("is empty");
  if (name == "." || name == "..") refuse("names a folder that exists everywhere");
  if (name.size() > 128) refuse(fmt::format("is {} bytes long (at most 128)", name.size()));
  for (const unsigned char ch : name) {
    if (ch == '/' || ch == '\\') refuse("holds a path separator");
    if (ch < 0x20 || ch == 0x7f) refuse("holds a control character");
  }
  if (name.front() == '.') refuse("starts with '.' (hidden, and the prefix of priorlab's staging folders)");
}

Pipeline build_pipeline(const Registry& registry, const json& c, bool data_only) {
  Pipeline p;
  p.config = c;
  p.name = c.at("name");
  p.seed = c.at("seed").get<std::uint64_t>();
  p.device = select_device(c.at("device"));
  p.dtype = select_dtype(c.at("dtype"));
  const json& training = c.at("training");
  if (training.at("threads").get<int>() > 0) torch::set_num_threads(training.at("threads").get<int>());
  set_flush_denormal(training.at("flush_denormal").get<bool>());
  // Parameters are initialised from the seed, whatever ran before in this process.
  torch::manual_seed(p.seed);

  auto context = [&](const std::string& section, const json& s) {
    BuildContext ctx;
    ctx.name = s.at("plugin");
    ctx.path = "/" + section;
    ctx.options = Options(s.at("options"), "/" + section + "/options");
    ctx.device = p.device;
    ctx.dtype = p.dtype;
    ctx.seed = p.seed;
    ctx.data_root = c.at("data_root");
    ctx.data = p.data;
    ctx.latent_dim = p.network ? p.network->latent_dim() : 0;
    ctx.network = p.network;
    if (section == "prior") ctx.dataset = p.dataset;
    ctx.steps_per_epoch = p.steps_per_epoch;
    ctx.total_steps = training.at("iterations");
    return ctx;
  };
  p.dataset = registry.create<Dataset>(context("dataset", c.at("dataset")));
  p.data = call_plugin(c["dataset"]["plugin"], [&] { return p.dataset->info(); });
  const auto train_size = call_plugin(c["dataset"]["plugin"], [&] { return p.dataset->size(Split::Train); });
  const auto batch = training.at("batch_size").get<std::int64_t>();
  if (train_size < batch)
    throw Error("/training/batch_size", fmt::format("batch size {} exceeds the {} training examples of dataset '{}'", batch,
                                                    train_size, c["dataset"]["plugin"].get<std::string>()));
  p.steps_per_epoch = train_size / batch;  // the last partial batch of an epoch is dropped
  if (data_only) return p;

  p.network = registry.create<Network>(context("network", c.at("network")));
  p.network->to(p.device, p.dtype);
  p.prior = registry.create<Prior>(context("prior", c.at("prior")));
  p.prior->to(p.device, p.dtype);
  p.objective = registry.create<Objective>(context("objective", c.at("objective")));
  p.scheduler = registry.create<Scheduler>(context("scheduler", c.at("scheduler")));
  for (size_t i = 0; i < c.at("evaluators").size(); ++i) {
    const json& e = c["evaluators"][i];
    p.evaluators.push_back({e.at("plugin"), registry.create<Evaluator>(context(fmt::format("evaluators/{}", i), e))});
  }
  return p;
}

nlohmann::json read_json_or_null(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return nullptr;
  try {
    return nlohmann::json::parse(read_file(path.string()));
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

}  // namespace priorlab::host
