#include "priorlab/plot.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "priorlab/error.hpp"
#include "priorlab/io.hpp"

#if PRIORLAB_WITH_OPENCV
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace priorlab {

std::string palette_color(size_t i) {
  static const char* const colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colours[i % 10];
}

#if PRIORLAB_WITH_OPENCV

bool pictures_enabled() { return true; }

namespace {

void write_png(const std::string& path, const cv::Mat& image) {
  write_atomic_with(path, [&](const std::string& tmp) {
    if (!cv::imwrite(tmp, image)) throw Error(path, "could not write PNG");
  });
}

const cv::Scalar kBlack(0, 0, 0), kGrey(200, 200, 200), kWhite(255, 255, 255);

// palette_color(i) as OpenCV's BGR.
cv::Scalar palette(size_t i) {
  const std::string hex = palette_color(i);
  const auto channel = [&](size_t at) { return double(std::stoi(hex.substr(at, 2), nullptr, 16)); };
  return {channel(5), channel(3), channel(1)};
}

const cv::Scalar kReference(60, 60, 60);  // ReferenceLine's dark grey

// Cyclic HSV hue for angles, linear viridis-like ramp otherwise; t in [0, 1].
cv::Scalar colour_map(double t, bool cyclic) {
  t = std::clamp(t, 0.0, 1.0);
  if (cyclic) {
    cv::Mat hsv(1, 1, CV_8UC3, cv::Scalar(t * 179.0, 220, 230)), bgr;
    cv::cvtColor(hsv, bgr, cv::COLOR_HSV2BGR);
    auto p = bgr.at<cv::Vec3b>(0, 0);
    return {double(p[0]), double(p[1]), double(p[2])};
  }
  // From dark purple through teal to yellow.
  const double r = std::clamp(-0.3 + 1.6 * t * t, 0.0, 1.0), g = std::clamp(0.05 + 0.9 * t, 0.0, 1.0),
               b = std::clamp(0.55 + 0.6 * t - 1.1 * t * t, 0.0, 1.0);
  return {255 * b, 255 * g, 255 * r};
}

void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.4, cv::Scalar colour = kBlack) {
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

std::string tick_label(double v) {
  if (v == 0) return "0";
  const double a = std::abs(v);
  if (a >= 1e3 && a < 1e7) return fmt::format("{:.0f}", v);
  if (a >= 1e7 || a < 1e-2) return fmt::format("{:.0e}", v);
  return fmt::format("{:.3g}", v);
}

// Maps data coordinates into a pixel rectangle.
struct Frame {
  cv::Rect box;
  double x0, x1, y0, y1;
  cv::Point map(double x, double y) const {
    const double u = (x - x0) / (x1 - x0), v = (y - y0) / (y1 - y0);
    return {box.x + int(std::lround(u * box.width)), box.y + box.height - int(std::lround(v * box.height))};
  }
};

void axes(cv::Mat& img, const Frame& f, bool log_y) {
  cv::rectangle(img, f.box, kBlack, 1);
  for (int i = 0; i <= 4; ++i) {
    const double x = f.x0 + (f.x1 - f.x0) * i / 4.0, y = f.y0 + (f.y1 - f.y0) * i / 4.0;
    const auto px = f.map(x, f.y0), py = f.map(f.x0, y);
    cv::line(img, {px.x, f.box.y}, {px.x, f.box.y + f.box.height}, kGrey, 1);
    cv::line(img, {f.box.x, py.y}, {f.box.x + f.box.width, py.y}, kGrey, 1);
    text(img, tick_label(x), {px.x - 12, f.box.y + f.box.height + 14}, 0.35);
    text(img, tick_label(log_y ? std::pow(10.0, y) : y), {2, py.y + 4}, 0.35);
  }
  cv::rectangle(img, f.box, kBlack, 1);
}

}  // namespace

bool save_image_grid(const std::string& path, const torch::Tensor& images, std::int64_t columns, std::int64_t zoom) {
  if (path.empty()) return false;  // a rank that draws nothing (evaluator.hpp)
  auto t = images.detach().to(torch::kCPU, torch::kFloat).clamp(0, 1);
  if (t.dim() == 4) t = t.select(1, 0);  // first channel (grey)
  if (t.dim() != 3) throw Error(path, "image grid expects [N, C, H, W] or [N, H, W]");
  const auto n = t.size(0), h = t.size(1), w = t.size(2);
  columns = std::max<std::int64_t>(1, std::min(columns, n));
  const auto rows = (n + columns - 1) / columns;
  const int pad = 1;
  cv::Mat canvas(int(rows * (h * zoom + pad) + pad), int(columns * (w * zoom + pad) + pad), CV_8UC1, cv::Scalar(128));
  auto u8 = (t * 255.0).round().to(torch::kUInt8).contiguous();
  for (std::int64_t i = 0; i < n; ++i) {
    cv::Mat tile(int(h), int(w), CV_8UC1, u8[i].data_ptr<std::uint8_t>()), big;
    cv::resize(tile, big, cv::Size(int(w * zoom), int(h * zoom)), 0, 0, cv::INTER_NEAREST);
    const int r = int(i / columns), c = int(i % columns);
    big.copyTo(canvas(cv::Rect(int(pad + c * (w * zoom + pad)), int(pad + r * (h * zoom + pad)), big.cols, big.rows)));
  }
  write_png(path, canvas);
  return true;
}

bool save_scatter_panels(const std::string& path, const std::vector<ScatterSeries>& panels, const std::string& title) {
  if (path.empty()) return false;
  if (panels.empty()) throw Error(path, "no panels to plot");
  const int size = 420, margin = 45, top = 40;
  double lo_x = INFINITY, hi_x = -INFINITY, lo_y = INFINITY, hi_y = -INFINITY;
  std::vector<torch::Tensor> pts;
  auto extend = [&](const torch::Tensor& xy) {  // [M, 2]
    if (xy.size(0) == 0) return;
    lo_x = std::min(lo_x, xy.select(1, 0).min().item<double>());
    hi_x = std::max(hi_x, xy.select(1, 0).max().item<double>());
    lo_y = std::min(lo_y, xy.select(1, 1).min().item<double>());
    hi_y = std::max(hi_y, xy.select(1, 1).max().item<double>());
  };
  std::vector<torch::Tensor> segs, lines;
  for (const auto& p : panels) {
    auto t = p.points.detach().to(torch::kCPU, torch::kDouble).contiguous();
    if (t.dim() != 2 || t.size(1) != 2) throw Error(path, "scatter points must be [N, 2]");
    extend(t);
    pts.push_back(t);
    torch::Tensor sg, pl;
    if (p.segments.defined()) {
      sg = p.segments.detach().to(torch::kCPU, torch::kDouble).contiguous();
      if (sg.dim() != 3 || sg.size(1) != 2 || sg.size(2) != 2) throw Error(path, "segments must be [E, 2, 2]");
      extend(sg.view({-1, 2}));
    }
    if (p.polyline.defined()) {
      pl = p.polyline.detach().to(torch::kCPU, torch::kDouble).contiguous();
      if (pl.dim() != 2 || pl.size(1) != 2) throw Error(path, "a polyline must be [P, 2]");
      extend(pl);
    }
    segs.push_back(sg);
    lines.push_back(pl);
  }
  if (!std::isfinite(lo_x)) lo_x = lo_y = -1, hi_x = hi_y = 1;
  // Same scale on both axes, with a margin, so the latent geometry is not distorted.
  const double cx = 0.5 * (lo_x + hi_x), cy = 0.5 * (lo_y + hi_y);
  const double half = 0.55 * std::max({hi_x - lo_x, hi_y - lo_y, 1e-6});
  cv::Mat img(top + size + margin, int(panels.size()) * (size + margin) + margin, CV_8UC3, kWhite);
  text(img, title, {margin, 22}, 0.55);
  for (size_t k = 0; k < panels.size(); ++k) {
    Frame f{cv::Rect(margin + int(k) * (size + margin), top, size, size), cx - half, cx + half, cy - half, cy + half};
    axes(img, f, false);
    text(img, panels[k].label, {f.box.x + 4, f.box.y + 16}, 0.45);
    const auto& t = pts[k];
    torch::Tensor v;
    double vmin = 0, vmax = 1;
    if (panels[k].values.defined() && panels[k].values.numel() == t.size(0)) {
      v = panels[k].values.detach().to(torch::kCPU, torch::kDouble).contiguous();
      if (panels[k].cyclic) vmax = 2 * M_PI;
      else if (v.numel() > 0) vmin = v.min().item<double>(), vmax = std::max(v.max().item<double>(), vmin + 1e-12);
    }
    if (segs[k].defined()) {
      const double* e = segs[k].data_ptr<double>();
      for (std::int64_t i = 0; i < segs[k].size(0); ++i)
        cv::line(img, f.map(e[4 * i], e[4 * i + 1]), f.map(e[4 * i + 2], e[4 * i + 3]), cv::Scalar(205, 205, 205), 1,
                 cv::LINE_AA);
    }
    const double* p = t.data_ptr<double>();
    for (std::int64_t i = 0; i < t.size(0); ++i) {
      const cv::Scalar c = v.defined() ? colour_map((v.data_ptr<double>()[i] - vmin) / (vmax - vmin), panels[k].cyclic)
                                       : cv::Scalar(180, 119, 31);
      cv::circle(img, f.map(p[2 * i], p[2 * i + 1]), panels[k].radius, c, cv::FILLED, cv::LINE_AA);
      if (static_cast<size_t>(i) < panels[k].point_labels.size())
        text(img, panels[k].point_labels[i], f.map(p[2 * i], p[2 * i + 1]) + cv::Point(6, 4), 0.35);
    }
    if (lines[k].defined() && lines[k].size(0) > 0) {
      const double* q = lines[k].data_ptr<double>();
      const auto n = lines[k].size(0);
      for (std::int64_t i = 1; i < n; ++i)
        cv::line(img, f.map(q[2 * i - 2], q[2 * i - 1]), f.map(q[2 * i], q[2 * i + 1]), cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
      for (std::int64_t i = 0; i < n; ++i) cv::circle(img, f.map(q[2 * i], q[2 * i + 1]), 3, cv::Scalar(0, 0, 0), cv::FILLED, cv::LINE_AA);
      cv::circle(img, f.map(q[0], q[1]), 7, cv::Scalar(0, 160, 0), 2, cv::LINE_AA);                    // start: green ring
      cv::circle(img, f.map(q[2 * n - 2], q[2 * n - 1]), 7, cv::Scalar(0, 0, 220), 2, cv::LINE_AA);   // end: red ring
    }
  }
  write_png(path, img);
  return true;
}

bool save_line_panels(const std::string& path, const std::vector<LinePanel>& panels, const std::string& x_label) {
  return save_line_panels(path, panels, x_label, {});
}

bool save_line_panels(const std::string& path, const std::vector<LinePanel>& panels, const std::string& x_label,
                      const std::vector<std::vector<ReferenceLine>>& references) {
  if (path.empty()) return false;
  if (panels.empty()) throw Error(path, "no panels to plot");
  static const std::vector<ReferenceLine> kNone;
  const auto refs = [&](size_t k) -> const std::vector<ReferenceLine>& {
    return k < references.size() ? references[k] : kNone;
  };
  // Panels grow with their legend (16 px per series and reference), so that no label is cut off.
  size_t most = 0;
  for (size_t k = 0; k < panels.size(); ++k) most = std::max(most, panels[k].series.size() + refs(k).size());
  const int width = 760, height = std::max(220, 16 * static_cast<int>(most) + 10), margin = 55, gap = 50;
  // The legend column is as wide as its longest label ("vhp_warmup200 seed=2"), at least 170 px:
  // a label starts label_x px right of the plot, with 10 px to spare after it.
  const int label_x = 35;
  const double label_scale = 0.4;
  int legend = 170;
  const auto fit = [&](const std::string& label) {
    int baseline = 0;
    const int w = cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, label_scale, 1, &baseline).width;
    legend = std::max(legend, label_x + w + 10);
  };
  for (size_t k = 0; k < panels.size(); ++k) {
    for (const auto& s : panels[k].series) fit(s.label);
    for (const auto& r : refs(k)) fit(r.label);
  }
  cv::Mat img(int(panels.size()) * (height + gap) + 30, width + margin + legend, CV_8UC3, kWhite);
  // A legend entry at baseline ly: a sample of the line (dashed for a dashed line, or a repeated
  // colour reads as the same run), then the label.
  const auto legend_entry = [&](int ly, const cv::Scalar& colour, bool dashed, const std::string& label) {
    if (dashed) {
      cv::line(img, {margin + width + 10, ly - 4}, {margin + width + 16, ly - 4}, colour, 2);
      cv::line(img, {margin + width + 23, ly - 4}, {margin + width + 30, ly - 4}, colour, 2);
    } else {
      cv::line(img, {margin + width + 10, ly - 4}, {margin + width + 30, ly - 4}, colour, 2);
    }
    text(img, label, {margin + width + label_x, ly}, label_scale);
  };
  for (size_t k = 0; k < panels.size(); ++k) {
    const auto& panel = panels[k];
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    // On a log scale a value <= 0 has no place: it is left out of the range and the line (a
    // schedule's beta = 0 phase would otherwise stretch the axis down to 1e-300).
    auto fy = [&](double y) { return panel.log_y ? (y > 0 ? std::log10(y) : NAN) : y; };
    for (const auto& s : panel.series)
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
        if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) continue;
        x0 = std::min(x0, s.x[i]), x1 = std::max(x1, s.x[i]);
        if (std::isfinite(fy(s.y[i]))) y0 = std::min(y0, fy(s.y[i])), y1 = std::max(y1, fy(s.y[i]));
      }
    if (!std::isfinite(x0)) x0 = 0, x1 = 1;
    if (!std::isfinite(y0)) y0 = 0, y1 = 1;
    for (const auto& r : refs(k))
      if (std::isfinite(fy(r.y))) y0 = std::min(y0, fy(r.y)), y1 = std::max(y1, fy(r.y));
    if (x1 <= x0) x1 = x0 + 1;
    if (y1 <= y0) y0 -= 0.5, y1 += 0.5;
    const double pad = 0.05 * (y1 - y0);
    Frame f{cv::Rect(margin, 25 + int(k) * (height + gap), width, height), x0, x1, y0 - pad, y1 + pad};
    axes(img, f, panel.log_y);
    text(img, panel.title + (panel.log_y ? " (log scale)" : ""), {margin, f.box.y - 6}, 0.45);
    for (size_t s = 0; s < panel.series.size(); ++s) {
      const auto& series = panel.series[s];
      const cv::Scalar colour = palette(s);
      std::vector<cv::Point> line;
      for (size_t i = 0; i < series.x.size() && i < series.y.size(); ++i)
        if (std::isfinite(fy(series.y[i]))) line.push_back(f.map(series.x[i], fy(series.y[i])));
      for (size_t i = 1; i < line.size(); ++i)
        if (!series.dashed || (i / 4) % 2 == 0) cv::line(img, line[i - 1], line[i], colour, 1, cv::LINE_AA);
      legend_entry(f.box.y + 14 + int(s) * 16, colour, series.dashed, series.label);
    }
    // References last, 2 px, dashed 10 on 6 off: on top of runs that sit on them.
    for (size_t j = 0; j < refs(k).size(); ++j) {
      const auto& r = refs(k)[j];
      if (std::isfinite(fy(r.y))) {
        const int y = f.map(f.x0, fy(r.y)).y;
        for (int x = f.box.x; x < f.box.x + f.box.width; x += 16)
          cv::line(img, {x, y}, {std::min(x + 10, f.box.x + f.box.width), y}, kReference, 2);
      }
      legend_entry(f.box.y + 14 + int(panel.series.size() + j) * 16, kReference, true, r.label);
    }
  }
  text(img, x_label, {margin + width / 2 - 20, img.rows - 8}, 0.45);
  write_png(path, img);
  return true;
}

bool save_bar_chart(const std::string& path, const std::vector<double>& values, const std::vector<std::string>& labels,
                    double threshold, bool log_y, const std::string& title) {
  if (path.empty()) return false;
  if (values.empty()) throw Error(path, "no bars to plot");
  const int n = static_cast<int>(values.size());
  const int bar = std::max(6, std::min(900, 600 / n)), height = 260, margin = 55;
  const int width = bar * n;
  cv::Mat img(height + 90, width + 2 * margin, CV_8UC3, kWhite);
  auto fy = [&](double y) { return log_y ? std::log10(std::max(y, 1e-12)) : y; };
  double lo = log_y ? INFINITY : 0.0, hi = -INFINITY;
  for (double v : values) lo = std::min(lo, fy(v)), hi = std::max(hi, fy(v));
  if (std::isfinite(threshold)) lo = std::min(lo, fy(threshold)), hi = std::max(hi, fy(threshold));
  if (hi <= lo) hi = lo + 1;
  Frame f{cv::Rect(margin, 30, width, height), 0, static_cast<double>(values.size()), lo, hi + 0.05 * (hi - lo)};
  axes(img, f, log_y);
  text(img, title + (log_y ? " (log scale)" : ""), {margin, 20}, 0.45);
  for (size_t i = 0; i < values.size(); ++i) {
    const auto top = f.map(static_cast<double>(i) + 0.15, fy(values[i]));
    const auto base = f.map(static_cast<double>(i) + 0.85, lo);
    cv::rectangle(img, top, base, palette(0), cv::FILLED);
    if (i < labels.size() && bar >= 14) text(img, labels[i], {top.x, base.y + 28}, 0.3);
  }
  if (std::isfinite(threshold)) {
    const int y = f.map(0, fy(threshold)).y;
    for (int x = f.box.x; x < f.box.x + f.box.width; x += 10) cv::line(img, {x, y}, {std::min(x + 5, f.box.x + f.box.width), y}, palette(3), 1);
  }
  write_png(path, img);
  return true;
}

namespace {
void check_heatmap(const std::string& path, const HeatMap& h) {
  if (h.values.size() != h.row_labels.size())
    throw Error(path, fmt::format("heat-map '{}': {} rows of values for {} row labels", h.title, h.values.size(),
                                  h.row_labels.size()));
  for (size_t r = 0; r < h.values.size(); ++r)
    if (h.values[r].size() != h.column_labels.size())
      throw Error(path, fmt::format("heat-map '{}': row {} has {} values for {} column labels", h.title, r,
                                    h.values[r].size(), h.column_labels.size()));
}
}  // namespace

bool save_heatmaps(const std::string& path, const std::vector<HeatMap>& panels) {
  if (path.empty()) return false;
  if (panels.empty()) throw Error(path, "no heat-map to draw");
  for (const auto& h : panels) check_heatmap(path, h);
  const double scale = 0.4;
  auto width_of = [&](const std::string& s) {
    int base = 0;
    return cv::getTextSize(s, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &base).width;
  };
  // One layout for every panel: the widest row label and the widest column label or number.
  int label_w = 0, cell_w = 64;
  for (const auto& h : panels) {
    label_w = std::max(label_w, width_of(h.row_axis));
    for (const auto& l : h.row_labels) label_w = std::max(label_w, width_of(l));
    for (const auto& l : h.column_labels) cell_w = std::max(cell_w, width_of(l) + 12);
  }
  const int cell_h = 26, left = label_w + 20, top_gap = 56, bar_w = 14, right = 90, gap = 24;
  int columns = 0, height = 10;
  for (const auto& h : panels) {
    columns = std::max(columns, static_cast<int>(h.column_labels.size()));
    height += top_gap + cell_h * static_cast<int>(h.row_labels.size()) + gap;
  }
  const int width = left + cell_w * columns + right;
  cv::Mat img(height, width, CV_8UC3, kWhite);
  int y0 = 10;
  for (const auto& h : panels) {
    double lo = INFINITY, hi = -INFINITY;
    for (const auto& row : h.values)
      for (double v : row)
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    text(img, h.title, {10, y0 + 16}, 0.45);
    text(img, h.column_axis, {left, y0 + 34}, scale, kReference);
    text(img, h.row_axis, {10, y0 + top_gap - 6}, scale, kReference);
    for (size_t c = 0; c < h.column_labels.size(); ++c)
      text(img, h.column_labels[c], {left + static_cast<int>(c) * cell_w + 6, y0 + top_gap - 6}, scale);
    const int grid_top = y0 + top_gap;
    for (size_t r = 0; r < h.row_labels.size(); ++r) {
      const int y = grid_top + static_cast<int>(r) * cell_h;
      text(img, h.row_labels[r], {10, y + cell_h / 2 + 5}, scale);
      for (size_t c = 0; c < h.column_labels.size(); ++c) {
        const double v = h.values[r][c];
        const cv::Rect cell(left + static_cast<int>(c) * cell_w, y, cell_w, cell_h);
        if (!std::isfinite(v)) {
          cv::rectangle(img, cell, kGrey, 1);
          continue;
        }
        double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
        if (h.lower_is_better) t = 1.0 - t;
        cv::rectangle(img, cell, colour_map(t, false), cv::FILLED);
        cv::rectangle(img, cell, kWhite, 1);
        text(img, fmt::format("{:.4g}", v), {cell.x + 6, cell.y + cell_h / 2 + 5}, scale, t < 0.55 ? kWhite : kBlack);
      }
    }
    // The colour bar: the scale's two ends, better at the top.
    const int bx = left + cell_w * columns + 12, rows_h = cell_h * static_cast<int>(h.row_labels.size());
    if (std::isfinite(lo)) {
      for (int k = 0; k < rows_h; ++k) {
        const double t = 1.0 - static_cast<double>(k) / std::max(1, rows_h - 1);
        cv::line(img, {bx, grid_top + k}, {bx + bar_w, grid_top + k}, colour_map(t, false), 1);
      }
      const double best = h.lower_is_better ? lo : hi, worst = h.lower_is_better ? hi : lo;
      text(img, fmt::format("{:.4g}", best), {bx + bar_w + 4, grid_top + 10}, 0.35);
      text(img, fmt::format("{:.4g}", worst), {bx + bar_w + 4, grid_top + rows_h}, 0.35);
    }
    y0 = grid_top + rows_h + gap;
  }
  write_png(path, img);
  return true;
}

#else  // Built without OpenCV (-DPRIORLAB_WITH_OPENCV=OFF): no pictures; the host says so once per run.

bool pictures_enabled() { return false; }
bool save_image_grid(const std::string&, const torch::Tensor&, std::int64_t, std::int64_t) { return false; }
bool save_scatter_panels(const std::string&, const std::vector<ScatterSeries>&, const std::string&) { return false; }
bool save_line_panels(const std::string&, const std::vector<LinePanel>&, const std::string&) { return false; }
bool save_line_panels(const std::string&, const std::vector<LinePanel>&, const std::string&,
                      const std::vector<std::vector<ReferenceLine>>&) {
  return false;
}
bool save_bar_chart(const std::string&, const std::vector<double>&, const std::vector<std::string>&, double, bool,
                    const std::string&) {
  return false;
}
bool save_heatmaps(const std::string&, const std::vector<HeatMap>&) { return false; }

#endif

}  // namespace priorlab
