#include "engine/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <fmt/format.h>

namespace priorlab::host {

Progress::Progress(std::string label, std::int64_t total, bool interactive)
    : label_(std::move(label)), total_(std::max<std::int64_t>(total, 1)), interactive_(interactive),
      start_(std::chrono::steady_clock::now()) {}

bool Progress::stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

std::string Progress::clock(double s) {
  if (!(s >= 0) || s > 1e7) return "--:--";
  const auto t = static_cast<long>(s + 0.5);
  return t >= 3600 ? fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60) : fmt::format("{}:{:02}", t / 60, t % 60);
}

std::string Progress::render(std::int64_t done, const std::string& fields, bool bar) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const auto since = done - std::max<std::int64_t>(start_done_, 0);
  const double eta = since > 0 ? elapsed / since * (total_ - done) : -1;
  const double fraction = static_cast<double>(done) / total_;
  std::string head = fmt::format("{} {:>3.0f}% {}/{}", label_, 100 * fraction, done, total_);
  if (bar) {
    const int width = 24, filled = static_cast<int>(fraction * width);
    head = fmt::format("{} [{}{}] {:>3.0f}% {}/{}", label_, std::string(filled, '#'), std::string(width - filled, '.'),
                       100 * fraction, done, total_);
  }
  return fmt::format("{} elapsed {} eta {}{}{}", head, clock(elapsed), clock(eta), fields.empty() ? "" : "  ", fields);
}

void Progress::update(std::int64_t done, const std::string& fields) {
  if (start_done_ < 0) start_done_ = done, start_ = last_line_ = std::chrono::steady_clock::now();
  const auto now = std::chrono::steady_clock::now();
  if (!interactive_) {
    if (log_every_ < 0 || done <= logged_done_ || std::chrono::duration<double>(now - last_line_).count() < log_every_) return;
    last_line_ = now;
    logged_done_ = done;
    line(done, fields);
    return;
  }
  if (open_ && done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  std::fprintf(stdout, "\r\033[K%s", render(done, fields, true).c_str());
  std::fflush(stdout);
  open_ = true;
}

void Progress::line(std::int64_t done, const std::string& fields) {
  if (start_done_ < 0) start_done_ = done, start_ = std::chrono::steady_clock::now();
  if (interactive_) return;
  std::fprintf(stdout, "%s\n", render(done, fields, false).c_str());
  std::fflush(stdout);
}

void Progress::finish() {
  if (open_) std::fprintf(stdout, "\n");
  open_ = false;
  std::fflush(stdout);
}

}  // namespace priorlab::host
