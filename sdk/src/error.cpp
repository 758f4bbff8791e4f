#include "priorlab/error.hpp"

#include <algorithm>

namespace priorlab {

namespace {
std::string join(const std::string& where, const std::string& message) {
  return where.empty() ? message : where + ": " + message;
}
}  // namespace

std::string one_line(std::string text) {
  std::replace_if(text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return text;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  // Levenshtein distance, one row at a time.
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t diagonal = row[0];
      row[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t up = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = up;
      }
    }
    return row[b.size()];
  };
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  const std::string* best = nullptr;
  size_t best_distance = limit + 1;
  for (const auto& c : candidates)
    if (const size_t d = distance(word, c); d < best_distance) best = &c, best_distance = d;
  return best ? "; did you mean '" + *best + "'?" : "";
}

Error::Error(std::string where, std::string message)
    : std::runtime_error(one_line(join(where, message))),
      where_(one_line(std::move(where))),
      message_(one_line(std::move(message))) {}

Error Error::located(const std::string& outer) const {
  return Error(where_.empty() ? outer : outer + ": " + where_, message_);
}

}  // namespace priorlab

namespace priorlab {
Error::~Error() = default;
}  // namespace priorlab
