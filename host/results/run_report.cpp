// The report of one run (run_report_html, write_run_report): one writer per section of the page,
// read from the run's folder once: the line under the title, errors, metrics, training curves,
// pictures inline, the configuration.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/progress.hpp"
#include "pipeline/pipeline.hpp"
#include "priorlab/io.hpp"
#include "priorlab/plot.hpp"
#include "results/curves.hpp"
#include "results/html.hpp"
#include "results/report.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace priorlab::host {

using detail::all_positive;
using detail::badge;
using detail::constraint_key;
using detail::make_chart;
using detail::page;
using detail::series_of;
using detail::value_text;

namespace {

bool has_key(const std::vector<json>& lines, const std::string& key) {
  return std::any_of(lines.begin(), lines.end(), [&](const json& l) { return l.contains(key) && l[key].is_number(); });
}

std::string mime_of(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".gif") return "image/gif";
  if (ext == ".webp") return "image/webp";
  if (ext == ".svg") return "image/svg+xml";
  return "";
}

// The value at a JSON pointer as text, "?" when absent.
std::string text_at(const json& j, const std::string& pointer) {
  const json::json_pointer p(pointer);
  return j.contains(p) ? value_text(j.at(p)) : "?";
}

// What a run's report is made from: the files of its folder, read once.
struct RunFiles {
  fs::path dir;
  json config, run, summary;
  std::vector<json> lines;  // metrics.jsonl
};

// Reads config.json, run.json, summary.json and metrics.jsonl (null or empty when missing).
RunFiles read_run_files(const fs::path& dir) {
  RunFiles f;
  f.dir = dir;
  f.config = read_json_or_null(dir / "config.json");
  f.run = read_json_or_null(dir / "run.json");
  f.summary = read_json_or_null(dir / "summary.json");
  f.lines = read_metrics_lines(dir / "metrics.jsonl");
  return f;
}

// A section of summary.json ("constraint_guard", "collapse"); null when absent.
json summary_section(const json& summary, const char* key) {
  return summary.is_object() ? summary.value(key, json()) : json();
}

// The line under the title: status, steps, training time, dates, plugins and seed.
std::string run_meta(const RunFiles& f, const std::string& status) {
  const json &run = f.run, &summary = f.summary;
  std::string meta = badge(status);
  if (run.is_object()) {
    meta += fmt::format(" &nbsp;step {} of {}", value_text(run.value("step", json(0))),
                        value_text(run.value("iterations", json("?"))));
    if (summary.is_object() && summary.contains("wall_seconds") && summary["wall_seconds"].is_number())
      meta += " &nbsp;·&nbsp; training time " + Progress::clock(summary["wall_seconds"].get<double>());
    else if (!f.lines.empty() && f.lines.back().contains("seconds") && f.lines.back()["seconds"].is_number())
      meta += " &nbsp;·&nbsp; training time " + Progress::clock(f.lines.back()["seconds"].get<double>());
    meta += fmt::format(" &nbsp;·&nbsp; started {} &nbsp;·&nbsp; updated {}", html_escape(run.value("started", "?")),
                        html_escape(run.value("updated", "?")));
  }
  if (f.config.is_object())
    meta += fmt::format(" &nbsp;·&nbsp; {} prior, {} scheduler, seed {}",
                        html_escape(text_at(f.config, "/prior/plugin")),
                        html_escape(text_at(f.config, "/scheduler/plugin")), html_escape(text_at(f.config, "/seed")));
  return meta;
}

// The run's error, the summary's other errors, the guard's warning and a collapse verdict, each in a box.
std::string run_errors_html(const RunFiles& f) {
  const json &run = f.run, &summary = f.summary;
  std::string b;
  if (run.is_object() && run.contains("error") && run["error"].is_string())
    b += "<div class=\"error\">" + html_escape(run["error"].get<std::string>()) + "</div>\n";
  if (summary.is_object() && summary.contains("errors") && summary["errors"].is_array())
    for (const auto& e : summary["errors"])
      if (e.is_string() && !(run.is_object() && run.value("error", "") == e.get<std::string>()))
        b += "<div class=\"error\">" + html_escape(e.get<std::string>()) + "</div>\n";
  // The constraint guard (DESIGN §4): a threshold that cannot bind is said where it is seen first.
  const json guard = summary_section(summary, "constraint_guard");
  if (guard.is_object() && guard.contains("warning") && guard["warning"].is_string())
    b += "<div class=\"error\">" + html_escape(guard["warning"].get<std::string>()) + "</div>\n";
  // The collapse diagnostics: a dead stochastic layer is said as plainly as a guard warning.
  const json collapse = summary_section(summary, "collapse");
  if (collapse.is_object() && !collapse.value("all_alive", true) && collapse.contains("verdict"))
    b += "<div class=\"error\">" + html_escape(collapse["verdict"].get<std::string>()) + "</div>\n";
  return b;
}

// One small table of metrics under a heading; nothing for an empty section.
std::string metrics_card(const std::string& section, const json& metrics) {
  if (!metrics.is_object() || metrics.empty()) return "";
  std::string b = fmt::format("<table class=\"card\"><tr><th colspan=\"2\">{}</th></tr>\n", html_escape(section));
  for (const auto& [k, v] : metrics.items()) {
    if (k == "step" || k == "phase" || k == "train_prior") continue;
    b += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td></tr>\n", html_escape(k), html_escape(value_text(v)));
  }
  return b + "</table>\n";
}

// Metrics: one small table per evaluator, side by side.
std::string run_metrics_html(const RunFiles& f) {
  const json& summary = f.summary;
  std::string b = "<h2 id=\"metrics\">Metrics</h2>\n";
  if (!summary.is_object())
    return b + "<p class=\"note\">No summary.json: the run has not finished its evaluators.</p>\n";
  b += "<div class=\"cards\">\n";
  if (summary.contains("evaluators") && summary["evaluators"].is_object())
    for (const auto& [e, m] : summary["evaluators"].items()) b += metrics_card(e, m);
  b += metrics_card("train (last interval)", summary.value("train", json()));
  const json guard = summary_section(summary, "constraint_guard");
  if (guard.is_object()) {  // its warning stands above, in full
    json numbers = guard;
    numbers.erase("warning");
    b += metrics_card("constraint guard", numbers);
  }
  return b + "</div>\n";
}

// Every layer above z (collapse diagnostics): its KL to its prior, log scale where positive. None without such layers.
void add_upper_layers_chart(const std::vector<json>& lines, std::vector<SvgChart>& charts) {
  std::set<std::string> upper_layers;
  for (const auto& l : lines)
    for (const auto& [k, v] : l.items())
      if (k.size() > 3 && k.compare(k.size() - 3, 3, "_kl") == 0 && v.is_number()) upper_layers.insert(k.substr(0, k.size() - 3));
  if (upper_layers.empty()) return;
  SvgChart upper = make_chart("KL of each layer above z to its prior (nats per example)");
  size_t colour = 5;
  for (const auto& layer : upper_layers)
    upper.series.push_back(series_of(lines, layer + "_kl", "KL(q(" + layer + "|z) || p(" + layer + "))",
                                     palette_color(colour++)));
  upper.log_y = all_positive(upper.series);
  charts.push_back(upper);
}

// The constraint per data dimension: C_hat and its threshold where logged, and the measure's interval mean.
SvgChart constraint_chart(const std::vector<json>& lines, const json& config) {
  SvgChart constraint = make_chart("constraint per data dimension");
  if (has_key(lines, "C_hat")) {
    constraint.series.push_back(series_of(lines, "C_hat", "C_hat (running average)", palette_color(4)));
    if (has_key(lines, "threshold"))
      constraint.series.push_back(series_of(lines, "threshold", "threshold (kappa^2)", "#555555", true));
  }
  const std::string measure = constraint_key(config);
  constraint.series.push_back(
      series_of(lines, measure, measure + " (interval mean)", palette_color(0), has_key(lines, "C_hat")));
  if (has_key(lines, "C_hat")) constraint.series.back().opacity = 0.55;
  constraint.log_y = all_positive(constraint.series);
  return constraint;
}

// Training curves: loss and distortion, rate, the upper layers' KL, beta, the constraint.
std::string run_curves_html(const RunFiles& f) {
  const auto& lines = f.lines;
  std::string b = "<h2 id=\"curves\">Training curves</h2>\n";
  if (lines.empty()) return b + "<p class=\"note\">No metrics.jsonl lines yet.</p>\n";
  std::vector<SvgChart> charts;
  SvgChart loss = make_chart("loss, distortion (nats per example)");
  loss.series = {series_of(lines, "loss", "loss"),
                 series_of(lines, "distortion", "distortion", palette_color(1), true)};
  charts.push_back(loss);
  SvgChart rate = make_chart("rate (nats per example)");
  rate.series = {series_of(lines, "rate", "rate", palette_color(2))};
  charts.push_back(rate);
  add_upper_layers_chart(lines, charts);
  SvgChart beta = make_chart("beta");
  beta.series = {series_of(lines, "beta", "beta", palette_color(3))};
  beta.log_y = all_positive(beta.series);
  charts.push_back(beta);
  charts.push_back(constraint_chart(lines, f.config));
  b += "<div class=\"charts\">\n";
  for (const auto& c : charts) b += svg_line_chart(c) + "\n";
  return b + "</div>\n";
}

// The pictures to show: those the summary lists, then any other image under artefacts/.
std::vector<fs::path> run_pictures(const RunFiles& f) {
  std::vector<fs::path> pictures;
  std::set<std::string> seen;
  if (f.summary.is_object() && f.summary.contains("artefacts") && f.summary["artefacts"].is_array())
    for (const auto& a : f.summary["artefacts"])
      if (a.is_string() && seen.insert(fs::path(a.get<std::string>()).lexically_normal().string()).second)
        pictures.push_back(f.dir / a.get<std::string>());
  std::error_code ec;
  std::vector<fs::path> extra;
  if (fs::is_directory(f.dir / "artefacts", ec))
    for (const auto& e : fs::directory_iterator(f.dir / "artefacts", ec)) {
      const auto rel = fs::path("artefacts") / e.path().filename();
      const std::string fname = e.path().filename().string();
      if (e.is_regular_file(ec) && !mime_of(e.path()).empty() && fname.find(".tmp") == std::string::npos &&
          !seen.count(rel.lexically_normal().string()))
        extra.push_back(e.path());
    }
  std::sort(extra.begin(), extra.end());
  pictures.insert(pictures.end(), extra.begin(), extra.end());
  return pictures;
}

// Pictures: each inline (base64), or a note when its file cannot be read.
std::string run_pictures_html(const RunFiles& f) {
  const std::vector<fs::path> pictures = run_pictures(f);
  std::error_code ec;
  std::string b = "<h2 id=\"pictures\">Pictures</h2>\n";
  if (pictures.empty()) b += "<p class=\"note\">No pictures.</p>\n";
  for (const auto& p : pictures) {
    const std::string mime = mime_of(p);
    std::string bytes;
    try {
      bytes = read_file(p.string());
    } catch (const std::exception&) {
      b += fmt::format("<p class=\"note\">missing picture: {}</p>\n", html_escape(p.filename().string()));
      continue;
    }
    if (mime.empty()) continue;
    b += fmt::format(R"(<figure><img src="data:{};base64,{}" alt="{}"><figcaption>{}</figcaption></figure>)", mime,
                     base64_encode(bytes), html_escape(p.filename().string()),
                     html_escape(fs::relative(p, f.dir, ec).string()));
    b += "\n";
  }
  return b;
}

}  // namespace

std::string run_report_html(const fs::path& dir) {
  const RunFiles f = read_run_files(dir);
  const json &config = f.config, &run = f.run, &summary = f.summary;
  const std::string name = config.is_object() ? config.value("name", dir.filename().string()) : dir.filename().string();
  std::string status = run.is_object() ? run.value("status", "") : "";
  if (summary.is_object() && summary.value("status", "") == "failed") status = "failed";

  std::string b = fmt::format("<h1>run {}</h1>\n", html_escape(name));
  b += "<p class=\"meta\">" + run_meta(f, status) + "</p>\n";
  b += "<p class=\"meta\"><a href=\"#metrics\">metrics</a> · <a href=\"#curves\">training curves</a> · "
       "<a href=\"#pictures\">pictures</a> · <a href=\"#config\">configuration</a></p>\n";
  if (config.is_object() && !config.value("description", "").empty())
    b += "<p class=\"desc\">" + html_escape(config["description"].get<std::string>()) + "</p>\n";
  b += run_errors_html(f);
  b += run_metrics_html(f);
  b += run_curves_html(f);
  b += run_pictures_html(f);
  b += "<h2 id=\"config\">Configuration (config.json, every default filled in)</h2>\n";
  b += config.is_object() ? "<pre>" + html_escape(config.dump(2)) + "</pre>\n"
                          : "<p class=\"note\">No config.json.</p>\n";
  return page("priorlab run " + name, b);
}

void write_run_report(const fs::path& run_dir) {
  write_file_atomic((run_dir / "report.html").string(), run_report_html(run_dir));
}

}  // namespace priorlab::host
