#include "priorlab/io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "priorlab/error.hpp"

namespace fs = std::filesystem;

namespace priorlab {

namespace {
std::string temporary_for(const std::string& path) {
  const fs::path p(path);
  // Keep the extension last so format-by-extension writers (OpenCV) still work.
  return (p.parent_path() / (p.stem().string() + ".tmp" + std::to_string(::getpid()) + p.extension().string()))
      .string();
}

void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}
}  // namespace

void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write) {
  const std::string tmp = temporary_for(path);
  try {
    write(tmp);
    fsync_path(tmp);
    fs::rename(tmp, path);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_atomic_with(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path, std::string("cannot write: ") + std::strerror(errno));
    errno = 0;
    out << content;
    out.close();
    if (!out) throw Error(path, std::string("write failed: ") + (errno ? std::strerror(errno) : "unknown error (disk full?)"));
  });
}

std::string read_file(const std::string& path) {
  // Without throwing: a symbolic-link loop is an Error naming the path, not a filesystem_error.
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) throw Error(path, "cannot read: " + ec.message());
  if (!fs::exists(st)) throw Error(path, "no such file");
  if (fs::is_directory(st)) throw Error(path, "expected a file, found a directory");
  // A FIFO or a device would block, or never end, on open or read.
  if (!fs::is_regular_file(st))
    throw Error(path, fmt::format("expected a regular file, found {}",
                                  fs::is_fifo(st)             ? "a FIFO"
                                  : fs::is_socket(st)         ? "a socket"
                                  : fs::is_character_file(st) ? "a character device"
                                  : fs::is_block_file(st)     ? "a block device"
                                                              : "something else"));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, std::string("cannot read: ") + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace priorlab
