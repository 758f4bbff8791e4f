#include "engine/process.hpp"

#include <filesystem>
#include <system_error>

#include "priorlab/error.hpp"

namespace fs = std::filesystem;

namespace priorlab::host {

namespace {
std::string& self_executable_override() {
  static std::string path;
  return path;
}
}  // namespace

void set_self_executable(const std::string& path) { self_executable_override() = path; }

std::string self_executable() {
  if (!self_executable_override().empty()) return self_executable_override();
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("/proc/self/exe", "cannot find this executable to start child processes: " + ec.message());
  return p.string();
}

}  // namespace priorlab::host
