// Where a sweep is planned: the sweep file read and expanded into its runs (expand_sweep: the
// sweep's own keys, the base, its "set", the axes and metrics, the seeds, then the runs composed
// with their names and descriptions), --seeds and --only applied to a plan (set_sweep_seeds,
// filter_sweep), and sweep.json, the record of the plan (plan_record). Running the plan is
// sweep.cpp; writing it as a Slurm job array, sweep_slurm.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <tuple>

#include "experiments/sweep.hpp"
#include "experiments/sweep_internal.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

std::string filesystem_safe(const std::string& text) {
  std::string out;
  for (char c : text)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '+' || c == '-' ? c : '-';
  // No runs of dashes, none at either end, and never "." or "..".
  std::string squeezed;
  for (char c : out)
    if (!(c == '-' && !squeezed.empty() && squeezed.back() == '-')) squeezed += c;
  while (!squeezed.empty() && squeezed.front() == '-') squeezed.erase(0, 1);
  while (!squeezed.empty() && squeezed.back() == '-') squeezed.pop_back();
  if (squeezed.empty() || squeezed == "." || squeezed == "..") squeezed = "x" + squeezed;
  return squeezed;
}

namespace {

bool is_safe_name(const std::string& s) { return !s.empty() && filesystem_safe(s) == s; }

std::string found(const json& j) {
  if (j.is_string()) return fmt::format("string \"{}\"", j.get<std::string>());
  if (j.is_number() || j.is_boolean()) return fmt::format("{} {}", j.type_name(), j.dump());
  return j.type_name();
}

// A run's description, when the sweep leaves /description alone: the base's description is
// about the base, and a run that differs from it on an axis (or in the sweep's "set") would
// otherwise carry it unchanged (the GECO row of Table 1 said "VHP + REWO ... 20,000 iterations").
// So the run's says which run of which sweep it is, what the sweep changed, and then quotes the
// base's. `values`: this run's (axis, value name, option paths it set).
std::string run_description(const SweepPlan& plan, const std::string& run_name,
                            const std::vector<std::tuple<std::string, std::string, std::string>>& values) {
  std::string d = fmt::format("Run {} of sweep {} ({}).", run_name, plan.name, plan.source);
  if (!plan.description.empty()) d += " " + plan.description;
  if (!plan.set_paths.empty()) {
    d += " The sweep sets";
    for (size_t i = 0; i < plan.set_paths.size(); ++i) d += (i ? ", " : " ") + plan.set_paths[i];
    d += " for every run.";
  }
  if (!values.empty()) {
    d += " This run's values:";
    for (size_t i = 0; i < values.size(); ++i) {
      const auto& [axis, value, paths] = values[i];
      d += fmt::format("{} {} = {} ({})", i ? "," : "", axis, value, paths);
    }
    d += ".";
  }
  d += " What the base's description says of these paths does not hold for this run.";
  const auto base = plan.base.find("description");
  if (base != plan.base.end() && base->is_string() && !base->get<std::string>().empty())
    d += fmt::format(" The base ({}): {}", plan.base_source == "(inline)" ? "inline in the sweep file" : plan.base_source,
                     base->get<std::string>());
  return d;
}

// The runs of a plan: the product of the axes (first slowest), seeds innermost.
void expand_runs(SweepPlan& plan) {
  plan.runs.clear();
  std::vector<size_t> index(plan.axes.size(), 0);
  for (const auto& a : plan.axes)
    if (a.values.empty()) return;
  const bool set_describes = std::count(plan.set_paths.begin(), plan.set_paths.end(), "/description") > 0;
  while (true) {
    SweepRun combo;
    combo.pipeline = plan.base;
    combo.provenance = plan.provenance;
    std::string name;
    std::vector<std::tuple<std::string, std::string, std::string>> values;  // for run_description
    bool sets_description = set_describes;  // or one of this run's axis values does
    for (size_t i = 0; i < plan.axes.size(); ++i) {
      const auto& axis = plan.axes[i];
      const auto& value = axis.values[index[i]];
      const std::string where = fmt::format("{}: /axes/{}/values/{}", plan.source, i, index[i]);
      std::string paths;
      for (const auto& [path, v] : value.sets) {
        set_option_path(combo.pipeline, path, v, where);
        const std::string pointer = option_pointer(path, where);
        combo.provenance.set(pointer, v, where);
        sets_description |= pointer == "/description";
        paths += (paths.empty() ? "" : ", ") + pointer;
      }
      combo.axes.emplace_back(axis.name, value.name);
      values.emplace_back(axis.name, value.name, paths);
      name += (name.empty() ? "" : ",") + axis.name + "=" + value.name;
    }
    auto describe = [&](SweepRun& r, const decltype(values)& v) {
      if (sets_description) return;  // the sweep's own words
      r.pipeline["description"] = run_description(plan, r.name, v);
      r.provenance.set("/description", r.pipeline["description"], plan.source + ": the run's description");
    };
    if (plan.seeds.empty()) {
      combo.name = name.empty() ? plan.name : name;
      describe(combo, values);
      plan.runs.push_back(combo);
    } else {
      for (const auto seed : plan.seeds) {
        SweepRun r = combo;
        r.seed = seed;
        r.pipeline["seed"] = seed;
        r.provenance.set("/seed", seed, plan.source + ": /seeds");
        r.name = (name.empty() ? "" : name + ",") + fmt::format("seed={}", seed);
        auto with_seed = values;
        with_seed.emplace_back("seed", std::to_string(seed), "/seed");
        describe(r, with_seed);
        plan.runs.push_back(std::move(r));
      }
    }
    // Next combination: the last axis varies fastest.
    size_t k = plan.axes.size();
    while (k > 0) {
      --k;
      if (++index[k] < plan.axes[k].values.size()) break;
      index[k] = 0;
      if (k == 0) return;
    }
    if (plan.axes.empty()) return;
  }
}

std::vector<std::int64_t> parse_seed_list(const json& seeds, const std::string& where) {
  std::vector<std::int64_t> out;
  if (seeds.is_number_integer() && seeds.get<std::int64_t>() >= 1) {
    for (std::int64_t s = 0; s < seeds.get<std::int64_t>(); ++s) out.push_back(s);
    return out;
  }
  if (!seeds.is_array() || seeds.empty())
    throw Error(where, fmt::format("expected a list of seeds (integers >= 0) or a count >= 1, found {}", found(seeds)));
  for (size_t i = 0; i < seeds.size(); ++i) {
    const json& s = seeds[i];
    if (!s.is_number_integer() || s.get<std::int64_t>() < 0)
      throw Error(fmt::format("{}/{}", where, i), fmt::format("expected an integer >= 0, found {}", found(s)));
    if (std::find(out.begin(), out.end(), s.get<std::int64_t>()) != out.end())
      throw Error(fmt::format("{}/{}", where, i), fmt::format("seed {} appears twice", s.get<std::int64_t>()));
    out.push_back(s);
  }
  return out;
}

// The sweep's own keys: refuses any other, and reads the sweep's name and description.
void read_sweep_header(SweepPlan& plan, const json& s, const std::string& source) {
  if (!s.is_object())
    throw Error("/",
                fmt::format("expected a sweep object {{\"base\": ..., \"axes\": [...], \"seeds\": [...]}}, found {}",
                            found(s)));
  static const std::vector<std::string> keys{"name", "description", "base", "set", "axes", "seeds", "metrics"};
  for (const auto& [k, v] : s.items())
    if (std::find(keys.begin(), keys.end(), k) == keys.end())
      throw Error("/" + pointer_escape(k),
                  fmt::format("unknown key '{}' (expected: name, description, base, set, axes, seeds, metrics)", k));
  plan.name = filesystem_safe(fs::path(source).stem().string());
  if (s.contains("name")) {
    if (!s["name"].is_string() || !is_safe_name(s["name"]))
      throw Error("/name",
                  fmt::format("expected a plain folder name (letters, digits, . _ + -), found {}", found(s["name"])));
    plan.name = s["name"];
  }
  if (s.contains("description")) {
    if (!s["description"].is_string())
      throw Error("/description", fmt::format("expected a string, found {}", found(s["description"])));
    plan.description = s["description"];
  }
}

// The pipeline every run starts from: a file (its "extends" followed) or an inline object.
void load_sweep_base(SweepPlan& plan, const json& s, const std::string& source, const fs::path& base_dir) {
  if (!s.contains("base"))
    throw Error("/", "missing \"base\": the pipeline every run starts from (an object, or a path)");
  if (s["base"].is_string()) {
    const fs::path p = fs::path(s["base"].get<std::string>());
    plan.base_source = (p.is_absolute() ? p : base_dir / p).lexically_normal().string();
    try {
      plan.base = load_pipeline_file(plan.base_source, &plan.provenance);
    } catch (const Error& e) {
      throw Error("/base", e.what());  // "/base: pendulum_base.json:3:4: malformed JSON: ..."
    }
    if (!plan.base.is_object())
      throw Error("/base",
                  fmt::format("{} holds a {}, expected a pipeline object", plan.base_source, plan.base.type_name()));
  } else if (s["base"].is_object()) {
    if (s["base"].contains("extends"))
      throw Error("/base/extends", "an inline base cannot extend a file; give \"base\" the path of a file instead");
    plan.base_source = "(inline)";
    plan.base = s["base"];
    plan.provenance.set("", plan.base, source + ": /base");
  } else {
    throw Error("/base", fmt::format("expected a pipeline object or a path to one, found {}", found(s["base"])));
  }
}

// The sweep's "set": option values applied to the base, so to every run.
void apply_sweep_set(SweepPlan& plan, const json& s, const std::string& source) {
  if (!s.contains("set")) return;
  if (!s["set"].is_object())
    throw Error("/set", fmt::format("expected an object {{\"/option/path\": value, ...}}, found {}", found(s["set"])));
  for (const auto& [path, v] : s["set"].items()) {
    const std::string where = "/set/" + pointer_escape(path);
    set_option_path(plan.base, path, v, where);
    plan.set_paths.push_back(option_pointer(path, where));
    plan.provenance.set(plan.set_paths.back(), v, source + ": " + where);
  }
}

// One value of `axis` (at `vat`): {"name": ..., "value": ..., "set": {...}}, or a bare value.
SweepValue parse_axis_value(const json& v, const std::string& vat, const SweepAxis& axis) {
  SweepValue value;
  auto need_path = [&] {
    if (axis.path.empty())
      throw Error(vat, "this value says nothing about where it goes: give the axis a \"path\", or the value a \"set\"");
  };
  if (v.is_object() && !v.contains("plugin")) {
    for (const auto& [k, x] : v.items())
      if (k != "name" && k != "value" && k != "set")
        throw Error(vat + "/" + pointer_escape(k),
                    fmt::format("unknown key '{}' (expected: name, value, set; a plugin section goes in \"value\" "
                                "or is written with its \"plugin\" key)",
                                k));
    if (!v.contains("name") || !v["name"].is_string() || !is_safe_name(v["name"]))
      throw Error(vat + "/name", fmt::format("expected a short name (letters, digits, . _ + -), found {}",
                                             v.contains("name") ? found(v["name"]) : "nothing"));
    value.name = v["name"];
    if (!v.contains("value") && !v.contains("set")) throw Error(vat, "expected \"value\" or \"set\" (or both)");
    if (v.contains("value")) {
      need_path();
      value.sets.emplace_back(axis.path, v["value"]);
    }
    if (v.contains("set")) {
      if (!v["set"].is_object())
        throw Error(vat + "/set",
                    fmt::format("expected an object {{\"/option/path\": value, ...}}, found {}", found(v["set"])));
      for (const auto& [path, x] : v["set"].items()) {
        split_option_path(path, vat + "/set/" + pointer_escape(path));
        value.sets.emplace_back(path, x);
      }
    }
  } else {
    // A bare value: a plugin section (named after its plugin) or a scalar / list (named by its text).
    need_path();
    if (v.is_object()) {
      if (!v["plugin"].is_string())
        throw Error(vat + "/plugin", fmt::format("expected a plugin name, found {}", found(v["plugin"])));
      value.name = filesystem_safe(v["plugin"].get<std::string>());
    } else {
      value.name = filesystem_safe(v.is_string() ? v.get<std::string>() : v.dump());
    }
    value.sets.emplace_back(axis.path, v);
  }
  return value;
}

// One axis (at `at`): its path, its name (unique among the axes `before` it) and its values.
SweepAxis parse_sweep_axis(const json& a, const std::string& at, const std::vector<SweepAxis>& before, bool has_seeds) {
  if (!a.is_object())
    throw Error(
        at, fmt::format("expected an axis {{\"name\": ..., \"path\": ..., \"values\": [...]}}, found {}", found(a)));
  for (const auto& [k, v] : a.items())
    if (k != "name" && k != "path" && k != "values")
      throw Error(at + "/" + pointer_escape(k), fmt::format("unknown key '{}' (expected: name, path, values)", k));
  SweepAxis axis;
  if (a.contains("path")) {
    if (!a["path"].is_string() || a["path"].get<std::string>().empty())
      throw Error(at + "/path", fmt::format("expected an option path such as \"/prior\" or \"training.seed\", found {}",
                                            found(a["path"])));
    axis.path = a["path"];
    split_option_path(axis.path, at + "/path");
  }
  if (a.contains("name")) {
    if (!a["name"].is_string() || !is_safe_name(a["name"]))
      throw Error(at + "/name",
                  fmt::format("expected a short name (letters, digits, . _ + -), found {}", found(a["name"])));
    axis.name = a["name"];
  } else if (!axis.path.empty()) {
    axis.name = filesystem_safe(split_option_path(axis.path, at + "/path").back());
  } else {
    throw Error(at, "missing \"name\" (or a \"path\" to name the axis after)");
  }
  if (axis.name == "seed" && has_seeds)
    throw Error(at + "/name", "'seed' is the name of the seeds axis; give this axis another name");
  for (const auto& other : before)
    if (other.name == axis.name) throw Error(at + "/name", fmt::format("a second axis named '{}'", axis.name));
  if (!a.contains("values") || !a["values"].is_array() || a["values"].empty())
    throw Error(at + "/values", fmt::format("expected a non-empty list of values, found {}",
                                            a.contains("values") ? found(a["values"]) : "nothing"));
  for (size_t j = 0; j < a["values"].size(); ++j) {
    const std::string vat = fmt::format("{}/values/{}", at, j);
    SweepValue value = parse_axis_value(a["values"][j], vat, axis);
    for (const auto& other : axis.values)
      if (other.name == value.name)
        throw Error(vat,
                    fmt::format("a second value named '{}' on axis '{}': give one a \"name\"", value.name, axis.name));
    axis.values.push_back(std::move(value));
  }
  return axis;
}

// The sweep's "axes", in order.
void parse_sweep_axes(SweepPlan& plan, const json& s) {
  if (!s.contains("axes")) return;
  if (!s["axes"].is_array()) throw Error("/axes", fmt::format("expected a list of axes, found {}", found(s["axes"])));
  for (size_t i = 0; i < s["axes"].size(); ++i)
    plan.axes.push_back(parse_sweep_axis(s["axes"][i], fmt::format("/axes/{}", i), plan.axes, s.contains("seeds")));
}

// The sweep's "metrics": the comparison table's columns.
void parse_sweep_metrics(SweepPlan& plan, const json& s) {
  if (!s.contains("metrics")) return;
  if (!s["metrics"].is_array())
    throw Error("/metrics", fmt::format("expected a list of metric names, found {}", found(s["metrics"])));
  for (size_t i = 0; i < s["metrics"].size(); ++i) {
    if (!s["metrics"][i].is_string())
      throw Error(fmt::format("/metrics/{}", i),
                  fmt::format("expected a metric name, found {}", found(s["metrics"][i])));
    plan.metrics.push_back(s["metrics"][i]);
  }
}

}  // namespace

SweepPlan expand_sweep(const json& s, const std::string& source, const fs::path& base_dir) {
  SweepPlan plan;
  plan.source = source;
  try {
    read_sweep_header(plan, s, source);
    load_sweep_base(plan, s, source, base_dir);
    apply_sweep_set(plan, s, source);
    parse_sweep_axes(plan, s);
    if (s.contains("seeds")) plan.seeds = parse_seed_list(s["seeds"], "/seeds");
    parse_sweep_metrics(plan, s);
  } catch (const Error& e) {
    throw e.located(source);
  }
  expand_runs(plan);
  return plan;
}

SweepPlan load_sweep(const std::string& path) {
  return expand_sweep(load_json_file(path), path, fs::path(path).parent_path());
}

void filter_sweep(SweepPlan& plan, const std::string& only) {
  const std::string where = "--only " + only;
  const auto eq = only.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == only.size()) throw Error(where, "expected AXIS=NAME[,NAME...]");
  const std::string axis = only.substr(0, eq);
  const auto a = std::find_if(plan.axes.begin(), plan.axes.end(), [&](const SweepAxis& x) { return x.name == axis; });
  if (a == plan.axes.end()) {
    std::string known;
    for (const auto& x : plan.axes) known += (known.empty() ? "" : ", ") + x.name;
    throw Error(where, fmt::format("no axis '{}' (axes: {})", axis, known.empty() ? "none" : known));
  }
  std::set<std::string> keep;
  std::stringstream ss(only.substr(eq + 1));
  std::string v;
  while (std::getline(ss, v, ',')) {
    if (std::none_of(a->values.begin(), a->values.end(), [&](const SweepValue& x) { return x.name == v; })) {
      std::string known;
      for (const auto& x : a->values) known += (known.empty() ? "" : ", ") + x.name;
      throw Error(where, fmt::format("axis '{}' has no value '{}' (values: {})", axis, v, known));
    }
    keep.insert(v);
  }
  plan.runs.erase(std::remove_if(plan.runs.begin(), plan.runs.end(),
                                 [&](const SweepRun& r) {
                                   for (const auto& [k, x] : r.axes)
                                     if (k == axis) return !keep.count(x);
                                   return true;
                                 }),
                  plan.runs.end());
}

void set_sweep_seeds(SweepPlan& plan, const std::string& seeds) {
  json list = json::array();
  std::stringstream ss(seeds);
  std::string part;
  while (std::getline(ss, part, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(part, &used);
      if (used != part.size()) throw std::invalid_argument(part);
      list.push_back(v);
    } catch (const std::exception&) {
      throw Error("--seeds " + seeds, fmt::format("expected integers >= 0 separated by commas, found \"{}\"", part));
    }
  }
  plan.seeds = parse_seed_list(list, "--seeds " + seeds);
  expand_runs(plan);
}

namespace detail {

// sweep.json: the plan as run (the comparison takes its metrics from it).
json plan_record(const SweepPlan& plan, const SweepRequest& req) {
  json plan_json = {{"name", plan.name},
                    {"description", plan.description},
                    {"source", req.path},
                    {"base", plan.base_source},
                    {"axes", json::array()},
                    {"seeds", plan.seeds},
                    {"metrics", req.metrics.empty() ? plan.metrics : req.metrics},
                    {"overrides", req.overrides},
                    {"only", req.only},
                    {"runs", json::array()}};
  for (const auto& a : plan.axes) {
    json values = json::array();
    for (const auto& v : a.values) values.push_back(v.name);
    plan_json["axes"].push_back({{"name", a.name}, {"path", a.path}, {"values", values}});
  }
  for (const auto& r : plan.runs) {
    json axes = json::object();
    for (const auto& [k, v] : r.axes) axes[k] = v;
    json entry = {{"name", r.name}, {"axes", axes}};
    if (r.seed) entry["seed"] = *r.seed;
    plan_json["runs"].push_back(entry);
  }
  return plan_json;
}

}  // namespace detail
}  // namespace priorlab::host
