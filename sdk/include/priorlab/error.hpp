// The one error type that crosses plugin boundaries.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "priorlab/export.hpp"

namespace priorlab {

/// An error located at a place: "file.json:12:3", "/prior/options/samples",
/// "plugin 'vhp'", "training step 420". what() is "<where>: <message>" on one line.
class PRIORLAB_API Error : public std::runtime_error {
 public:
  Error(std::string where, std::string message);
  ~Error() override;
  Error(const Error&) = default;
  Error& operator=(const Error&) = default;

  /// The place the error refers to (may be empty).
  const std::string& where() const noexcept { return where_; }
  /// What was expected and what was found, without the place.
  const std::string& message() const noexcept { return message_; }

  /// The same message with an outer place prepended: "outer: inner-where".
  Error located(const std::string& outer) const;

 private:
  std::string where_;
  std::string message_;
};

/// Replaces newlines and tabs with spaces so a message fits one line.
PRIORLAB_API std::string one_line(std::string text);

/// "; did you mean 'samples'?" when one of `candidates` is within edit distance max(1, n/3) of
/// `word` (n its length; the closest, first on ties), else "". For unknown names in messages.
PRIORLAB_API std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace priorlab
