// report.html: base64 and escaping, the SVG charts, a run's report that is self-contained
// (pictures as data: URIs, no external references) and renders in headless Chromium, and a
// folder's report linking its runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#if PRIORLAB_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#endif

#include "priorlab/plot.hpp"
#include "results/report.hpp"
#include "test_util.hpp"

using namespace priorlab;
using namespace priorlab::host;
using test::json;
namespace fs = std::filesystem;

namespace {

using test::read_text;

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The values of every `attr=` in `html` (quoted or not). std::regex is not used on purpose: its
// recursion overflows the stack on a report holding megabytes of base64.
std::vector<std::string> attribute_values(const std::string& html, const std::string& attr) {
  std::vector<std::string> values;
  for (size_t at = html.find(attr + "="); at != std::string::npos; at = html.find(attr + "=", at + 1)) {
    if (at > 0 && (std::isalnum(static_cast<unsigned char>(html[at - 1])) || html[at - 1] == '-'))
      continue;  // data-src=
    size_t v = at + attr.size() + 1;
    const char quote = v < html.size() && (html[v] == '"' || html[v] == '\'') ? html[v++] : ' ';
    const size_t end = quote == ' ' ? html.find_first_of(" >", v) : html.find(quote, v);
    values.push_back(html.substr(v, end == std::string::npos ? std::string::npos : end - v));
  }
  return values;
}

// Self-contained: nothing fetched from anywhere (no http(s) or protocol-relative src/href, no
// scripts, no stylesheet links), every <img> a data: URI.
void expect_self_contained(const std::string& html) {
  for (const char* attr : {"src", "href", "SRC", "HREF"})
    for (const auto& v : attribute_values(html, attr)) {
      std::string lower = v;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      EXPECT_TRUE(lower.rfind("http:", 0) != 0 && lower.rfind("https:", 0) != 0 && lower.rfind("//", 0) != 0)
          << attr << "=" << v.substr(0, 80);
    }
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);  // no CSS fetches either
  for (size_t at = html.find("<img"); at != std::string::npos; at = html.find("<img", at + 1)) {
    const auto src = attribute_values(html.substr(at, html.find('>', at) - at), "src");
    ASSERT_EQ(src.size(), 1u);
    EXPECT_EQ(src[0].rfind("data:image/png;base64,", 0), 0u) << src[0].substr(0, 60);
  }
}

// A run directory written by hand: config, status, 40 metrics lines, a summary listing one
// picture, and a second picture under artefacts/ that the summary does not list.
fs::path hand_made_run(const fs::path& root, const std::string& name, double mae) {
  const auto dir = root / name;
  json config = test::small_pipeline(400);
  config["name"] = name;
  config["description"] = "a <hand-made> run";
  test::write_text(dir / "config.json", config.dump(2));
  test::write_text(
      dir / "run.json",
      R"({"status": "completed", "step": 400, "iterations": 400, "started": "2024-01-01T00:00:00Z", "updated": "2024-01-01T00:01:00Z"})");
  std::string lines;
  for (int i = 1; i <= 40; ++i)
    lines += json{{"step", 10 * i},
                  {"loss", 300.0 - i},
                  {"distortion", 290.0 - i},
                  {"rate", 0.1 * i},
                  {"beta", 1e-6 * std::pow(10.0, i / 8.0)},
                  {"C_hat", 0.1 / i},
                  {"threshold", 0.02},
                  {"squared_error_per_dim", 0.12 / i},
                  {"phase", "main"}}
                 .dump() +
             "\n";
  test::write_text(dir / "metrics.jsonl", lines);
  fs::create_directories(dir / "artefacts");
  // A 1x1 red PNG, written byte by byte so the report tests need no OpenCV.
  const std::string png("\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\xfc\xcf\xc0\x50\x0f\x00\x04\x85\x01\x80\x84\xa9\x8c\x21\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82", 70);
  test::write_text(dir / "artefacts" / "latent.png", png);
  test::write_text(dir / "artefacts" / "extra.png", png);
  test::write_text(dir / "summary.json",
                   json{{"name", name},
                        {"status", "completed"},
                        {"steps", 400},
                        {"wall_seconds", 61.0},
                        {"train", {{"loss", 260.0}, {"beta", 1.0}}},
                        {"evaluators", {{"pendulum_angle", {{"mae_rad", mae}, {"examples", 100}}}}},
                        {"artefacts", {"artefacts/latent.png"}}}
                       .dump(2));
  return dir;
}

// Screenshot of `html` in headless Chromium; empty when chromium is not installed.
fs::path screenshot(const fs::path& html, const fs::path& work) {
  if (std::system("command -v chromium >/dev/null 2>&1") != 0) return {};
  const auto shot = work / "shot.png";
  const std::string cmd =
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars "
      "--user-data-dir='" +
      (work / "profile").string() + "' --screenshot='" + shot.string() + "' --window-size=1200,2000 'file://" +
      fs::absolute(html).string() + "' >'" + (work / "chromium.log").string() + "' 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << read_text(work / "chromium.log");
  return shot;
}

}  // namespace

TEST(Report, Base64MatchesRfc4648) {
  // RFC 4648 section 10 test vectors.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64_encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Report, HtmlEscape) {
  EXPECT_EQ(html_escape(R"(<a href="x">'&'</a>)"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

TEST(Report, SvgChartDrawsSeriesLegendAndDecades) {
  SvgChart chart;
  chart.title = "beta <log>";
  chart.log_y = true;
  chart.series.push_back({{0, 100, 200, 300}, {1e-6, 1e-4, NAN, 1.0}, "beta", "", false, 1.0});
  chart.series.push_back({{0, 300}, {0.5, 0.5}, "", "#123456", true, 1.0});
  const std::string svg = svg_line_chart(chart);
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 6), "</svg>");
  EXPECT_NE(svg.find("beta &lt;log&gt;"), std::string::npos);
  EXPECT_EQ(count(svg, "<path "), 2u);
  // The NaN breaks the first line: it restarts with a second "M".
  const auto first_path = svg.substr(svg.find("<path "), svg.find("/>", svg.find("<path ")) - svg.find("<path "));
  EXPECT_EQ(count(first_path, "M"), 2u) << first_path;
  EXPECT_NE(svg.find(">1e-6<"), std::string::npos);
  EXPECT_NE(svg.find(">1e0<"), std::string::npos);
  EXPECT_NE(svg.find("stroke-dasharray"), std::string::npos);
  EXPECT_EQ(count(svg, ">beta</text>"), 1u);  // one legend entry: the unlabelled series is not listed
  SvgChart empty;
  empty.title = "nothing";
  EXPECT_NE(svg_line_chart(empty).find("no data"), std::string::npos);
}

// The PNG line panels (training_curves, compare's comparison_curves.png) use the HTML charts'
// ten colours, so that the callers' "dash series 10-19" tells every run of a 15-run sweep apart,
// and their legend column is as wide as the longest label (it was cut at 170 px).
TEST(Report, LinePanelsUseTheHtmlChartsTenColoursAndFitTheLongestLabel) {
#if !PRIORLAB_WITH_OPENCV
  GTEST_SKIP() << "built without OpenCV: no PNG pictures";
#else
  test::TempDir dir;
  LinePanel panel;
  panel.title = "ten series";
  for (int s = 0; s < 10; ++s)
    panel.series.push_back({{0, 50, 100}, {double(s), double(s), double(s)},
                            s == 9 ? std::string(60, 'W') + " seed=2" : "run " + std::to_string(s), s == 9});
  const auto file = (dir.path() / "panels.png").string();
  ASSERT_TRUE(save_line_panels(file, {panel}, "step"));
  const cv::Mat img = cv::imread(file, cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  for (size_t s = 0; s < 10; ++s) {
    const std::string hex = palette_color(s);  // "#rrggbb"
    const cv::Vec3b bgr(std::stoi(hex.substr(5, 2), nullptr, 16), std::stoi(hex.substr(3, 2), nullptr, 16),
                        std::stoi(hex.substr(1, 2), nullptr, 16));
    int n = 0;
    for (int r = 0; r < img.rows; ++r)
      for (int c = 0; c < img.cols; ++c) n += img.at<cv::Vec3b>(r, c) == bgr;
    EXPECT_GE(n, 20) << "series " << s << ": colour " << hex << " drawn on " << n << " pixels";
  }
  // Nothing runs off the right edge: the last 5 columns are white.
  const cv::Mat edge = img.colRange(img.cols - 5, img.cols);
  int dark = 0;
  for (int r = 0; r < edge.rows; ++r)
    for (int c = 0; c < edge.cols; ++c) dark += edge.at<cv::Vec3b>(r, c) != cv::Vec3b(255, 255, 255);
  EXPECT_EQ(dark, 0) << "the longest legend label is cut off at the right edge (" << img.cols << " px wide)";
#endif
}

TEST(Report, ReferenceLinesAreDrawnDarkGreyAcrossThePanelAndWidenItsRange) {
#if !PRIORLAB_WITH_OPENCV
  GTEST_SKIP() << "built without OpenCV: no PNG pictures";
#else
  test::TempDir dir;
  LinePanel panel;
  panel.title = "three runs below a threshold";
  for (int s = 0; s < 3; ++s) panel.series.push_back({{0, 50, 100}, {1.0 + 0.5 * s, 1.5, 2.0}, "run " + std::to_string(s)});
  const auto with = (dir.path() / "with.png").string(), without = (dir.path() / "without.png").string();
  ASSERT_TRUE(save_line_panels(with, {panel}, "step", {{{10.0, "threshold 10"}}}));
  ASSERT_TRUE(save_line_panels(without, {panel}, "step"));
  const cv::Vec3b grey(60, 60, 60);
  auto per_row = [&](const std::string& file) {
    const cv::Mat img = cv::imread(file, cv::IMREAD_COLOR);
    std::vector<int> n(img.rows, 0);
    for (int r = 0; r < img.rows; ++r)
      for (int c = 0; c < img.cols; ++c) n[r] += img.at<cv::Vec3b>(r, c) == grey;
    return n;
  };
  const auto n = per_row(with);
  const auto row = int(std::max_element(n.begin(), n.end()) - n.begin());
  // Dashed 10 px on, 6 off, over the 760 px plot: about 475 px on the line's rows.
  EXPECT_GE(n[row], 400) << "row " << row;
  // By hand: the y range [1, 10] (the reference widens it from [1, 2]) padded by 5% is
  // [0.55, 10.45]; y = 10 sits 9.45 / 9.9 of the 220 px up from the box's bottom at 25 + 220,
  // i.e. at row 245 - round(210.0) = 35.
  EXPECT_LE(std::abs(row - 35), 1) << "row " << row;
  const auto none = per_row(without);
  // Without it no row has more than a few such pixels (anti-aliased text has some).
  EXPECT_LT(*std::max_element(none.begin(), none.end()), 20) << "the grey line comes from the reference";
#endif
}

TEST(Report, RunReportIsSelfContainedWithConfigMetricsCurvesAndEveryPicture) {
  test::TempDir dir;
  const auto run = hand_made_run(dir.path(), "vhp_rewo", 0.0681);
  write_run_report(run);
  const std::string html = read_text(run / "report.html");
  expect_self_contained(html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<h1>run vhp_rewo</h1>"), std::string::npos);
  EXPECT_NE(html.find("a &lt;hand-made&gt; run"), std::string::npos);  // escaped description
  EXPECT_NE(html.find(">mae_rad</td><td class=\"num\">0.0681<"), std::string::npos);
  EXPECT_NE(html.find("&quot;plugin&quot;: &quot;pendulum&quot;"), std::string::npos);  // the config
  EXPECT_EQ(count(html, "<svg "), 4u);                                                  // loss, rate, beta, constraint
  EXPECT_NE(html.find("C_hat (running average)"), std::string::npos);
  EXPECT_EQ(count(html, "<img src=\"data:image/png;base64,"), 2u);  // the listed picture and the extra one
  EXPECT_NE(html.find("artefacts/extra.png"), std::string::npos);
  // The embedded picture decodes back to the file's bytes.
  const std::string png = read_text(run / "artefacts" / "latent.png");
  EXPECT_NE(html.find(base64_encode(png)), std::string::npos);
}

TEST(Report, ReportOfAFailedRunShowsTheError) {
  test::TempDir dir;
  const auto run = dir.path() / "broken";
  test::write_text(run / "config.json", test::small_pipeline().dump());
  test::write_text(
      run / "run.json",
      R"({"status": "failed", "step": 60, "iterations": 200, "error": "training step 61: non-finite loss nan"})");
  test::write_text(run / "metrics.jsonl", "{\"step\": 20, \"loss\": 1}\n{\"step\": 40, \"lo");  // cut short
  const std::string html = run_report_html(run);
  expect_self_contained(html);
  EXPECT_NE(html.find("<span class=\"badge failed\">failed</span>"), std::string::npos);
  EXPECT_NE(html.find("training step 61: non-finite loss nan"), std::string::npos);
  EXPECT_NE(html.find("No summary.json"), std::string::npos);
}

TEST(Report, AnEvaluationThatFailsRewritesTheReportWithItsError) {
  // A run that completed is resumed for more steps, and its evaluation then fails: "artefacts" is
  // a file, so the folder for the pictures cannot be made. The page must say failed and why, not
  // keep the first session's "completed".
  test::TempDir dir;
  test::write_text(dir.path() / "p.json", test::small_pipeline(20).dump());
  ASSERT_EQ(test::run_cli("run p.json --out runs", dir.str()).exit_code, 0);
  const auto run = dir.path() / "runs" / "small";
  EXPECT_NE(read_text(run / "report.html").find("<span class=\"badge completed\">completed</span>"), std::string::npos);
  fs::remove_all(run / "artefacts");
  test::write_text(run / "artefacts", "not a folder");
  const auto r = test::run_cli("resume runs/small --set training.iterations=30", dir.str());
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("so `priorlab evaluate runs/small` can redo the evaluation"), std::string::npos) << r.output;
  const std::string html = read_text(run / "report.html");
  EXPECT_NE(html.find("<span class=\"badge failed\">failed</span>"), std::string::npos);
  EXPECT_NE(html.find("can redo the evaluation"), std::string::npos);
}

TEST(Report, EveryRunWritesItsReportAndItRendersInHeadlessChromium) {
  test::TempDir dir;
  json c = test::small_pipeline(60);
  c["evaluators"].push_back({{"plugin", "latent_plot"}, {"options", {{"points", 50}, {"prior_samples", 50}}}});
  c["evaluators"].push_back({{"plugin", "training_curves"}});
  test::write_text(dir.path() / "p.json", c.dump());
  const auto r = test::run_cli("run p.json --out runs", dir.str());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("report:  runs/small/report.html"), std::string::npos) << r.output;
  const auto report = dir.path() / "runs" / "small" / "report.html";
  const std::string html = read_text(report);
  expect_self_contained(html);
  // reconstruction, latent, training curves; none in a build without pictures.
  EXPECT_EQ(count(html, "<img src=\"data:image/png;base64,"), PRIORLAB_WITH_OPENCV ? 3u : 0u);
  const json summary = json::parse(read_text(dir.path() / "runs" / "small" / "summary.json"));
  const double elbo = summary["evaluators"]["reconstruction"]["elbo"];
  EXPECT_NE(html.find(format_number(elbo)), std::string::npos);

  const auto shot = screenshot(report, dir.path());
  if (shot.empty())
    GTEST_SKIP() << "chromium is not installed (apt-get install chromium): the rendering check did not run";
#if !PRIORLAB_WITH_OPENCV
  // No OpenCV to read the PNG back: the page rendered to a screenshot of some substance (text and
  // SVG curves: about 220 kB here, where a blank 1200x2000 page is 11 kB).
  EXPECT_GT(fs::file_size(shot), 30000u) << "the screenshot is (nearly) blank";
#else
  const cv::Mat img = cv::imread(shot.string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(img.empty()) << "no screenshot at " << shot;
  EXPECT_EQ(img.cols, 1200);
  cv::Scalar mean, stddev;
  cv::meanStdDev(img, mean, stddev);
  EXPECT_GT(stddev[0], 20.0) << "the screenshot is (nearly) blank";
  // Rendered pictures and charts: plenty of pixels that are neither background nor text-black.
  EXPECT_GT(cv::countNonZero((img > 30) & (img < 225)), 10000);
#endif
}

TEST(Report, FolderReportLinksRunsAndOverlaysTheirCurves) {
  test::TempDir dir;
  hand_made_run(dir.path(), "prior=a,seed=0", 0.1);
  hand_made_run(dir.path(), "prior=a,seed=1", 0.3);
  hand_made_run(dir.path(), "prior=b,seed=0", 0.5);
  test::write_text(dir.path() / "prior=c,seed=0" / "run.json",
                   R"({"status": "failed", "step": 3, "error": "boom <3"})");
  for (const char* n : {"prior=a,seed=0", "prior=a,seed=1", "prior=b,seed=0"}) write_run_report(dir.path() / n);
  const json state = {
      {"name", "grid"},
      {"description", "two priors"},
      {"runs",
       {{{"name", "prior=a,seed=0"}, {"status", "completed"}}, {{"name", "prior=z,seed=0"}, {"status", "pending"}}}}};
  const Comparison c = compare_runs(dir.path());
  write_folder_report(c, state);
  const std::string html = read_text(dir.path() / "report.html");
  expect_self_contained(html);
  EXPECT_NE(html.find("<h1>sweep grid</h1>"), std::string::npos);
  EXPECT_NE(html.find(R"(<a href="prior=a,seed=1/report.html">prior=a,seed=1</a>)"), std::string::npos);
  EXPECT_NE(html.find(R"(<td class="num best">0.2 ± 0.1414</td>)"), std::string::npos) << html.substr(0, 4000);
  EXPECT_EQ(count(html, "<svg "), 3u);  // loss, beta, constraint
  EXPECT_NE(html.find("threshold 0.02"), std::string::npos);
  EXPECT_NE(html.find("boom &lt;3"), std::string::npos);
  EXPECT_NE(html.find("prior=z,seed=0"), std::string::npos);  // planned, not started
  const auto r = test::run_cli("report " + dir.str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("(and 4 run reports)"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(dir.path() / "prior=c,seed=0" / "report.html"));
}
