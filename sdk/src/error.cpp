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
