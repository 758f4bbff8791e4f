#include "results/compare.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <set>
#include <tuple>

#include "pipeline/pipeline.hpp"
#include "priorlab/error.hpp"
#include "priorlab/io.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

Direction metric_direction(const std::string& metric) {
  std::string key = metric.substr(metric.rfind('.') == std::string::npos ? 0 : metric.rfind('.') + 1);
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  auto has = [&](const char* word) { return key.find(word) != std::string::npos; };
  if (has("standard_error")) return Direction::kUnknown;
  if (has("negative")) return Direction::kLower;
  for (const char* w : {"nll", "error", "loss", "mae", "mse", "distortion", "rms"})
    if (has(w)) return Direction::kLower;
  for (const char* w : {"elbo", "log_likelihood", "log-likelihood", "loglik", "active", "alive"})
    if (has(w)) return Direction::kHigher;
  return Direction::kUnknown;
}

std::string format_number(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  return fmt::format("{:.4g}", v);
}

std::string strip_seed(const std::string& name) {
  // "axis=value,...,seed=N": drop the seed component.
  if (name.find('=') != std::string::npos) {
    static const std::regex seed_part(R"(seed=[0-9]+)");
    std::string out, part;
    std::stringstream ss(name);
    while (std::getline(ss, part, ','))
      if (!std::regex_match(part, seed_part)) out += (out.empty() ? "" : ",") + part;
    return out.empty() ? name : out;
  }
  static const std::regex trailing(R"((.*?)[_.-]?seed[_-]?[0-9]+$)");
  std::smatch m;
  if (std::regex_match(name, m, trailing) && m[1].length() > 0) return m[1];
  return name;
}

namespace {

void add_numbers(json& flat, const std::string& prefix, const json& object) {
  if (!object.is_object()) return;
  for (const auto& [k, v] : object.items())
    if (v.is_number()) flat[prefix + k] = v.get<double>();
}

// The config that decides a combination: everything except what only names or seeds the run,
// how many threads it used, or whether it wrote TensorBoard files (runs from before that option
// have no key for it). With a registry the config is resolved under this build's defaults first,
// as the sweep resolves a run folder's config before it skips the run: an option added since
// (a section's new key, "distributed") then holds its default in old and new runs alike.
std::string config_key(const fs::path& run_dir, const Registry* registry) {
  json c = read_json_or_null(run_dir / "config.json");
  if (!c.is_object()) return "";
  if (registry) {
    try {
      c = resolve_pipeline(*registry, c, (run_dir / "config.json").string(), run_dir.filename().string());
    } catch (const Error&) {
      // Not valid under this build (a plugin missing, an option removed): keyed as written.
    }
  }
  for (const char* k : {"name", "description", "seed", "tensorboard"}) c.erase(k);
  if (c.contains("training") && c["training"].is_object()) c["training"].erase("threads");
  return c.dump();
}

bool is_run_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p / "run.json", ec) || fs::is_regular_file(p / "summary.json", ec);
}

// "a=1,b=x" → {{"a","1"},{"b","x"}}; empty when not of that form.
std::vector<std::pair<std::string, std::string>> parse_axes(const std::string& label) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string part;
  std::stringstream ss(label);
  while (std::getline(ss, part, ',')) {
    const auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0) return {};
    out.emplace_back(part.substr(0, eq), part.substr(eq + 1));
  }
  return out;
}

std::string md_escape(std::string s) {
  for (size_t at = 0; (at = s.find('|', at)) != std::string::npos; at += 2) s.replace(at, 1, "\\|");
  return s;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

const char* arrow(Direction d) { return d == Direction::kLower ? " ↓" : d == Direction::kHigher ? " ↑" : ""; }

}  // namespace

RunRecord read_run(const fs::path& dir) {
  RunRecord r;
  r.dir = dir;
  r.name = dir.filename().string();
  const json run = read_json_or_null(dir / "run.json");
  if (run.is_object()) {
    r.status = run.value("status", "");
    r.error = run.value("error", "");
  }
  const json summary = read_json_or_null(dir / "summary.json");
  if (summary.is_object()) {
    r.has_summary = true;
    if (r.status.empty()) r.status = summary.value("status", "");
    if (r.error.empty() && summary.contains("errors") && summary["errors"].is_array() && !summary["errors"].empty() &&
        summary["errors"][0].is_string())
      r.error = summary["errors"][0];
    add_numbers(r.metrics, "train.", summary.value("train", json()));
    if (summary.contains("evaluators") && summary["evaluators"].is_object())
      for (const auto& [name, m] : summary["evaluators"].items()) add_numbers(r.metrics, name + ".", m);
    for (const char* k : {"steps", "wall_seconds"})
      if (summary.contains(k) && summary[k].is_number()) r.metrics[k] = summary[k].get<double>();
    // The collapse section every run ends with: 1/0 for "every layer alive" and for each layer,
    // and each layer's active units ("collapse.zeta_alive", "collapse.zeta_active_units").
    const json collapse = summary.value("collapse", json());
    if (collapse.is_object()) {
      if (collapse.contains("all_alive") && collapse["all_alive"].is_boolean())
        r.metrics["collapse.all_alive"] = collapse["all_alive"].get<bool>() ? 1.0 : 0.0;
      if (collapse.contains("layers") && collapse["layers"].is_array())
        for (const auto& layer : collapse["layers"]) {
          if (!layer.is_object() || !layer.contains("name") || !layer["name"].is_string()) continue;
          const std::string name = "collapse." + layer["name"].get<std::string>();
          if (layer.contains("alive") && layer["alive"].is_boolean())
            r.metrics[name + "_alive"] = layer["alive"].get<bool>() ? 1.0 : 0.0;
          if (layer.contains("active_units") && layer["active_units"].is_number())
            r.metrics[name + "_active_units"] = layer["active_units"].get<double>();
        }
    }
  }
  return r;
}

std::vector<fs::path> find_run_dirs(const fs::path& dir) {
  std::error_code ec;
  std::vector<fs::path> found;
  if (is_run_dir(dir)) {
    found.push_back(dir);
  } else {
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_directory(ec)) continue;
      const auto& p = it->path();
      if (p.filename().string().rfind('.', 0) == 0) {
        it.disable_recursion_pending();
        continue;
      }
      if (is_run_dir(p)) {
        found.push_back(p);
        it.disable_recursion_pending();
      }
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

namespace {

// A sweep's plan orders its combinations as its axes list them: run name -> place in sweep.json.
std::map<std::string, size_t> plan_order_of(const json& plan) {
  std::map<std::string, size_t> plan_order;
  if (plan.is_object() && plan.contains("runs") && plan["runs"].is_array())
    for (const auto& r : plan["runs"])
      if (r.is_object() && r.contains("name") && r["name"].is_string())
        plan_order.emplace(r["name"], plan_order.size());
  return plan_order;
}

// Group by (label, config without seed), rows in plan order; runs without a summary go to c.incomplete.
void group_runs(Comparison& c, const std::map<std::string, size_t>& plan_order, const Registry* registry) {
  std::map<std::string, size_t> group_of;
  std::vector<std::pair<size_t, size_t>> order;  // (sort key, row)
  for (const auto& r : c.runs) {
    if (!r.has_summary) {
      c.incomplete.push_back(&r);
      continue;
    }
    const std::string label = strip_seed(r.name);
    const std::string key = label + "\n" + config_key(r.dir, registry);
    auto [it, inserted] = group_of.emplace(key, c.rows.size());
    if (inserted) {
      ComparisonRow row;
      row.label = label;
      c.rows.push_back(std::move(row));
      const auto po = plan_order.find(r.name);
      order.emplace_back(po == plan_order.end() ? plan_order.size() + c.rows.size() : po->second, c.rows.size() - 1);
    }
    c.rows[it->second].runs.push_back(&r);
  }
  std::stable_sort(order.begin(), order.end());
  std::vector<ComparisonRow> sorted;
  for (const auto& [k, i] : order) sorted.push_back(std::move(c.rows[i]));
  c.rows = std::move(sorted);
}

// Two groups with one label (same names, different configs, in different folders): say where.
void qualify_shared_labels(Comparison& c) {
  std::error_code ec;
  std::map<std::string, int> label_count;
  for (const auto& row : c.rows) ++label_count[row.label];
  for (auto& row : c.rows)
    if (label_count[row.label] > 1) {
      const auto parent = fs::relative(row.runs.front()->dir.parent_path(), c.dir, ec).string();
      row.label = (parent.empty() || parent == "." ? std::string("") : parent + "/") + row.label;
    }
}

// Axis columns when every label reads "axis=value,..."; else one column, "run", of the labels.
void set_axes(Comparison& c) {
  bool axes_ok = !c.rows.empty();
  for (const auto& row : c.rows) axes_ok = axes_ok && !parse_axes(row.label).empty();
  if (!axes_ok) {
    c.axis_columns = {"run"};
    for (auto& row : c.rows) row.axes = {row.label};
    return;
  }
  for (const auto& row : c.rows)
    for (const auto& [k, v] : parse_axes(row.label))
      if (std::find(c.axis_columns.begin(), c.axis_columns.end(), k) == c.axis_columns.end())
        c.axis_columns.push_back(k);
  for (auto& row : c.rows) {
    const auto parsed = parse_axes(row.label);
    for (const auto& col : c.axis_columns) {
      const auto it = std::find_if(parsed.begin(), parsed.end(), [&](const auto& kv) { return kv.first == col; });
      row.axes.push_back(it == parsed.end() ? "" : it->second);
    }
  }
}

// Which metrics: every name any run reported, in first-seen order (evaluators before train).
std::vector<std::string> available_metrics(const Comparison& c) {
  std::vector<std::string> available;
  std::set<std::string> seen;
  for (const auto& r : c.runs)
    for (const auto& [k, v] : r.metrics.items())
      if (seen.insert(k).second) available.push_back(k);
  std::stable_sort(available.begin(), available.end(), [](const std::string& a, const std::string& b) {
    auto rank = [](const std::string& m) {
      return m.rfind("train.", 0) == 0 ? 1 : m.find('.') == std::string::npos ? 2 : 0;
    };
    return rank(a) < rank(b);
  });
  return available;
}

// Adds to metrics, once each, the available ones named want or ending in "." + want; false when none is.
bool add_matching(std::vector<std::string>& metrics, const std::vector<std::string>& available,
                  const std::string& want) {
  bool any = false;
  for (const auto& m : available)
    if (m == want || (m.size() > want.size() && m.compare(m.size() - want.size(), want.size(), want) == 0 &&
                      m[m.size() - want.size() - 1] == '.')) {
      any = true;
      if (std::find(metrics.begin(), metrics.end(), m) == metrics.end()) metrics.push_back(m);
    }
  return any;
}

// The table's metrics: those asked for (else the sweep's), by default every evaluator metric with a direction.
void choose_metrics(Comparison& c, const std::vector<std::string>& wanted, const json& plan) {
  const std::vector<std::string> available = available_metrics(c);
  std::vector<std::string> requested = wanted;
  if (requested.empty() && plan.is_object() && plan.contains("metrics") && plan["metrics"].is_array())
    for (const auto& m : plan["metrics"])
      if (m.is_string()) requested.push_back(m);
  if (requested.empty()) {
    for (const auto& m : available)
      if (m.find('.') != std::string::npos && m.rfind("train.", 0) != 0 && metric_direction(m) != Direction::kUnknown)
        c.metrics.push_back(m);
  } else {
    for (const auto& want : requested) {
      if (want == "all") {
        for (const auto& m : available)
          if (std::find(c.metrics.begin(), c.metrics.end(), m) == c.metrics.end()) c.metrics.push_back(m);
        continue;
      }
      const bool any = add_matching(c.metrics, available, want);
      // A metric named by a sweep file but not reported yet (no run finished) is not an error.
      if (!any && !wanted.empty() && !c.runs.empty()) {
        std::string known;
        for (const auto& m : available) known += (known.empty() ? "" : ", ") + m;
        // The suggestion first: the list of every metric can run to hundreds of names.
        throw Error("--metrics " + want,
                    fmt::format("no run under {} reports it{} (available: {})", c.dir.string(),
                                did_you_mean(want, std::vector<std::string>(available.begin(), available.end())),
                                known.empty() ? "none" : known));
      }
    }
  }
  for (const auto& m : c.metrics) c.directions.push_back(metric_direction(m));
}

double sample_sd(const std::vector<double>& v, double mean) {
  if (v.size() < 2) return 0;
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

// Percentile p of sorted values, interpolated linearly between order statistics (numpy's default).
double percentile_sorted(const std::vector<double>& sorted, double p) {
  const double h = p * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<size_t>(std::floor(h));
  if (i + 1 >= sorted.size()) return sorted.back();
  return sorted[i] + (h - static_cast<double>(i)) * (sorted[i + 1] - sorted[i]);
}

// Mean, sample standard deviation and bootstrap interval per row and metric.
void fill_cells(Comparison& c) {
  for (auto& row : c.rows) {
    for (const auto& m : c.metrics) {
      std::vector<double> v;
      for (const auto* r : row.runs)
        if (r->metrics.contains(m)) v.push_back(r->metrics[m].get<double>());
      if (v.empty()) {
        row.cells.emplace_back();
        continue;
      }
      Cell cell;
      cell.n = static_cast<int>(v.size());
      for (double x : v) cell.mean += x;
      cell.mean /= cell.n;
      cell.std = sample_sd(v, cell.mean);
      std::tie(cell.ci_low, cell.ci_high) = bootstrap_mean_interval(v);
      row.cells.push_back(cell);
    }
  }
}

// Best per metric with a known direction, among at least two combinations.
void mark_best(Comparison& c) {
  for (size_t j = 0; j < c.metrics.size(); ++j) {
    if (c.directions[j] == Direction::kUnknown) continue;
    std::optional<double> best;
    int with_value = 0;
    for (const auto& row : c.rows) {
      const auto& cell = row.cells[j];
      if (!cell || !std::isfinite(cell->mean)) continue;
      ++with_value;
      const double v = c.directions[j] == Direction::kLower ? cell->mean : -cell->mean;
      if (!best || v < *best) best = v;
    }
    if (with_value < 2) continue;
    for (auto& row : c.rows) {
      auto& cell = row.cells[j];
      if (!cell || !std::isfinite(cell->mean)) continue;
      const double v = c.directions[j] == Direction::kLower ? cell->mean : -cell->mean;
      cell->best = v == *best;
    }
  }
}

}  // namespace

std::pair<double, double> bootstrap_mean_interval(const std::vector<double>& values, int resamples,
                                                  std::uint64_t seed) {
  if (values.empty()) throw Error("bootstrap_mean_interval", "no values");
  if (resamples < 1) throw Error("bootstrap_mean_interval", fmt::format("resamples {}: expected at least 1", resamples));
  const size_t n = values.size();
  if (n == 1) return {values[0], values[0]};
  // mt19937_64 is specified to the bit by the standard, and the modulo below is ours (its bias
  // is n / 2^64), so the same values give the same interval with every compiler.
  std::mt19937_64 rng(seed);
  std::vector<double> means(static_cast<size_t>(resamples));
  for (auto& m : means) {
    double sum = 0;
    for (size_t i = 0; i < n; ++i) sum += values[rng() % n];
    m = sum / static_cast<double>(n);
  }
  std::sort(means.begin(), means.end());
  return {percentile_sorted(means, 0.025), percentile_sorted(means, 0.975)};
}

Comparison compare_runs(const fs::path& dir, const std::vector<std::string>& wanted, const Registry* registry) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw Error(dir.string(), "not a folder");
  Comparison c;
  c.dir = dir;
  for (const auto& p : find_run_dirs(dir)) c.runs.push_back(read_run(p));
  const json plan = read_json_or_null(dir / "sweep.json");
  group_runs(c, plan_order_of(plan), registry);
  qualify_shared_labels(c);
  set_axes(c);
  choose_metrics(c, wanted, plan);
  fill_cells(c);
  mark_best(c);
  return c;
}

namespace {

// The table's two header lines: axis columns, n, one column per metric.
std::string markdown_head(const Comparison& c) {
  std::string head = "|", rule = "|";
  for (const auto& a : c.axis_columns) head += " " + md_escape(a) + " |", rule += "---|";
  head += " n |", rule += "---:|";
  for (size_t j = 0; j < c.metrics.size(); ++j)
    head += " " + md_escape(c.metrics[j]) + arrow(c.directions[j]) + " |", rule += "---:|";
  return head + "\n" + rule + "\n";
}

// A table line's first cells, the same in both tables: the row's axis values and its run count.
std::string markdown_row_start(const ComparisonRow& row) {
  std::string line = "|";
  for (const auto& a : row.axes) line += " " + md_escape(a) + " |";
  return line + fmt::format(" {} |", row.runs.size());
}

// The bootstrap intervals, as a second table with the same columns; none when every
// combination has a single run.
std::string interval_markdown(const Comparison& c) {
  const bool any = std::any_of(c.rows.begin(), c.rows.end(), [](const ComparisonRow& r) { return r.runs.size() > 1; });
  if (!any) return "";
  std::string out = "\nBootstrap 95 % interval of each mean (10,000 resamples of the runs, percentile; with few seeds\n"
                    "it is close to the range of the runs):\n\n" + markdown_head(c);
  for (const auto& row : c.rows) {
    std::string line = markdown_row_start(row);
    for (const auto& cell : row.cells) {
      std::string text = "–";
      if (cell && cell->n > 1) text = "[" + format_number(cell->ci_low) + ", " + format_number(cell->ci_high) + "]";
      line += " " + text + " |";
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string comparison_markdown(const Comparison& c) {
  std::string out;
  if (c.rows.empty()) {
    out += fmt::format("No completed runs under {} yet.\n", c.dir.string());
  } else {
    out += markdown_head(c);
    for (const auto& row : c.rows) {
      std::string line = markdown_row_start(row);
      for (const auto& cell : row.cells) {
        std::string text = "–";
        if (cell) {
          text = format_number(cell->mean);
          if (cell->n > 1) text += " ± " + format_number(cell->std);
          if (cell->best) text = "**" + text + "**";
          if (cell->n != static_cast<int>(row.runs.size())) text += fmt::format(" (n={})", cell->n);
        }
        line += " " + text + " |";
      }
      out += line + "\n";
    }
    out +=
        "\nMean ± sample standard deviation over the seeds of each combination (n runs; a cell's own n in\n"
        "brackets when fewer runs reported it). Bold: the best combination per metric (↓ lower is better,\n"
        "↑ higher is better; metrics without an arrow have no rule and are not marked).\n";
    out += interval_markdown(c);
  }
  if (!c.incomplete.empty()) {
    out += "\nRuns without a summary (not in the table):\n";
    for (const auto* r : c.incomplete)
      out += fmt::format("- {} ({}{})\n", r->name, r->status.empty() ? "no status" : r->status,
                         r->error.empty() ? "" : ": " + r->error);
  }
  return out;
}

std::string comparison_csv(const Comparison& c) {
  std::vector<std::string> head = c.axis_columns;
  head.push_back("n");
  head.push_back("runs");
  for (const auto& m : c.metrics)
    for (const char* s : {"_mean", "_std", "_n", "_best", "_ci95_low", "_ci95_high"}) head.push_back(m + s);
  std::string out;
  for (size_t i = 0; i < head.size(); ++i) out += (i ? "," : "") + csv_field(head[i]);
  out += "\n";
  for (const auto& row : c.rows) {
    std::vector<std::string> f = row.axes;
    f.push_back(std::to_string(row.runs.size()));
    std::string names;
    for (const auto* r : row.runs) names += (names.empty() ? "" : ";") + r->name;
    f.push_back(names);
    for (const auto& cell : row.cells) {
      if (!cell) {
        f.insert(f.end(), {"", "", "0", "0", "", ""});
        continue;
      }
      f.push_back(fmt::format("{:.17g}", cell->mean));
      f.push_back(cell->n > 1 ? fmt::format("{:.17g}", cell->std) : "");
      f.push_back(std::to_string(cell->n));
      f.push_back(cell->best ? "1" : "0");
      f.push_back(cell->n > 1 ? fmt::format("{:.17g}", cell->ci_low) : "");
      f.push_back(cell->n > 1 ? fmt::format("{:.17g}", cell->ci_high) : "");
    }
    for (size_t i = 0; i < f.size(); ++i) out += (i ? "," : "") + csv_field(f[i]);
    out += "\n";
  }
  return out;
}

void write_comparison(const Comparison& c) {
  write_file_atomic((c.dir / "comparison.md").string(), comparison_markdown(c));
  write_file_atomic((c.dir / "comparison.csv").string(), comparison_csv(c));
}

namespace {

// artefacts/loglik_per_example.csv: index -> log p(x).
std::map<std::int64_t, double> read_per_example(const fs::path& file) {
  std::map<std::int64_t, double> out;
  std::stringstream in(read_file(file.string()));
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1) {
      if (line.rfind("index,log_px", 0) != 0)
        throw Error(fmt::format("{}:1", file.string()), fmt::format("expected the header index,log_px,..., found \"{}\"", line));
      continue;
    }
    if (line.empty()) continue;
    std::stringstream fields(line);
    std::string index, log_px;
    std::getline(fields, index, ',');
    std::getline(fields, log_px, ',');
    try {
      size_t a = 0, b = 0;
      const std::int64_t i = std::stoll(index, &a);
      const double v = std::stod(log_px, &b);
      if (a != index.size() || b != log_px.size()) throw std::invalid_argument(line);
      out[i] = v;
    } catch (const std::exception&) {
      throw Error(fmt::format("{}:{}", file.string(), number),
                  fmt::format("expected an index and a log p(x), found \"{}\"", line));
    }
  }
  return out;
}

// seed -> per-example log p(x), for the runs of a row that have the file.
std::map<std::int64_t, std::map<std::int64_t, double>> row_examples(const ComparisonRow& row) {
  std::map<std::int64_t, std::map<std::int64_t, double>> out;
  for (const RunRecord* r : row.runs) {
    const fs::path file = r->dir / "artefacts" / "loglik_per_example.csv";
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) continue;
    const json config = read_json_or_null(r->dir / "config.json");
    const std::int64_t seed = config.is_object() && config.value("seed", json()).is_number_integer()
                                  ? config["seed"].get<std::int64_t>()
                                  : -1;
    out[seed] = read_per_example(file);
  }
  return out;
}

}  // namespace

PairedComparison compare_paired(const Comparison& c, const std::string& reference) {
  const auto ref = std::find_if(c.rows.begin(), c.rows.end(), [&](const ComparisonRow& r) { return r.label == reference; });
  if (ref == c.rows.end()) {
    std::string labels;
    for (const auto& r : c.rows) labels += (labels.empty() ? "" : ", ") + r.label;
    throw Error("--paired " + reference, fmt::format("no row of {} is named so (rows: {})", c.dir.string(),
                                                    labels.empty() ? "none" : labels));
  }
  const auto ref_examples = row_examples(*ref);
  if (ref_examples.empty())
    throw Error("--paired " + reference,
                "no run of the reference row has artefacts/loglik_per_example.csv (written by the loglik evaluator; "
                "add it with priorlab evaluate RUN --evaluator '{\"plugin\": \"loglik\"}')");
  PairedComparison p;
  p.reference = reference;
  for (const auto& row : c.rows) {
    if (&row == &*ref) continue;
    const auto examples = row_examples(row);
    PairedRow out;
    out.label = row.label;
    for (const auto& [seed, values] : examples) {
      const auto other = ref_examples.find(seed);
      if (other == ref_examples.end()) continue;
      std::vector<double> d;
      for (const auto& [i, v] : values)
        if (const auto it = other->second.find(i); it != other->second.end()) d.push_back(v - it->second);
      if (d.empty()) continue;
      const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(d.size());
      out.pairs.push_back({seed, static_cast<std::int64_t>(d.size()), mean,
                           sample_sd(d, mean) / std::sqrt(static_cast<double>(d.size()))});
    }
    if (out.pairs.empty()) {
      p.unpaired.push_back(row.label + (examples.empty() ? ": no run has artefacts/loglik_per_example.csv"
                                                          : ": no seed in common with the reference, or no image"));
      continue;
    }
    std::vector<double> means;
    for (const auto& q : out.pairs) means.push_back(q.mean);
    out.mean = std::accumulate(means.begin(), means.end(), 0.0) / static_cast<double>(means.size());
    out.std = sample_sd(means, out.mean);
    p.rows.push_back(std::move(out));
  }
  return p;
}

std::string paired_markdown(const PairedComparison& p) {
  std::string out = fmt::format(
      "Paired against {}: d = log p(x) of the row minus log p(x) of {} on each test image both scored "
      "(> 0: the row is better).\n\n| row | seeds | mean d over seeds | per seed: mean d ± paired SE (n) |\n|---|---:|---:|---|\n",
      p.reference, p.reference);
  for (const auto& r : p.rows) {
    std::string per;
    for (const auto& q : r.pairs)
      per += fmt::format("{}seed {}: {} ± {} ({})", per.empty() ? "" : "; ", q.seed, format_number(q.mean),
                         format_number(q.standard_error), q.n);
    const std::string mean =
        r.pairs.size() > 1 ? format_number(r.mean) + " ± " + format_number(r.std) : format_number(r.mean);
    out += fmt::format("| {} | {} | {} | {} |\n", md_escape(r.label), r.pairs.size(), mean, per);
  }
  for (const auto& u : p.unpaired) out += "\nNot paired: " + u + "\n";
  out += "\nmean d over seeds: mean ± sample standard deviation of the per-seed paired means. Paired SE: the "
         "standard deviation of d over the images, divided by the square root of their number.\n";
  return out;
}

void write_paired(const Comparison& c, const PairedComparison& p) {
  write_file_atomic((c.dir / "comparison_paired.md").string(), paired_markdown(p));
}

}  // namespace priorlab::host
