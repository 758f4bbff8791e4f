// Progress on long work: a live bar with ETA on a terminal, plain lines otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace priorlab::host {

class Progress {
 public:
  /// `label` prefixes every line; `interactive` chooses the live bar (true when stdout is a tty).
  Progress(std::string label, std::int64_t total, bool interactive);

  /// Reports `done` of `total` with extra fields ("beta=1e-3 C=0.02"). On a terminal the bar is
  /// redrawn at most ten times a second; otherwise nothing is printed (see line()), unless
  /// log_every() asked for timed lines.
  void update(std::int64_t done, const std::string& fields);
  /// When not interactive, update() prints a full line once at least `seconds` have passed since
  /// the start or the last such line and `done` has advanced: a log (a sweep's run log, a batch
  /// job's output) then shows how far long work without its own log interval (an evaluator) is.
  /// Negative (the default): never.
  void log_every(double seconds) { log_every_ = seconds; }
  /// Prints one full line (used for the periodic plain-text log when not interactive).
  void line(std::int64_t done, const std::string& fields);
  /// Ends the bar with a newline.
  void finish();

  /// "1:02:03" / "2:03" for a number of seconds.
  static std::string clock(double seconds);
  static bool stdout_is_terminal();

 private:
  std::string render(std::int64_t done, const std::string& fields, bool bar) const;
  std::string label_;
  std::int64_t total_, start_done_ = -1;
  bool interactive_;
  bool open_ = false;
  double log_every_ = -1;
  std::int64_t logged_done_ = -1;
  std::chrono::steady_clock::time_point start_, last_draw_, last_line_;
};

}  // namespace priorlab::host
