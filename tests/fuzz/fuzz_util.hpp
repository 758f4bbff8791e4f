// Shared by the fuzz targets: the build tree's plugins, a scratch folder of this process, and
// the rule every target checks. Bad input may end in a priorlab::Error (located, the
// documented outcome); anything else escaping (a raw library exception, a crash, a sanitizer
// report, a hang) is a finding.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "priorlab/error.hpp"
#include "plugin_registry.hpp"

namespace priorlab::fuzz {

using test::registry;  // the test suite's (../plugin_registry.hpp)

/// This process's scratch folder (created once, emptied by the caller as it likes).
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("priorlab-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void write_bytes(const std::filesystem::path& file, const std::uint8_t* data, std::size_t size) {
  std::filesystem::create_directories(file.parent_path());
  std::FILE* f = std::fopen(file.c_str(), "wb");
  if (size > 0) std::fwrite(data, 1, size, f);
  std::fclose(f);
}

/// Runs `fn`; a priorlab::Error is the expected answer to bad input and is swallowed.
template <class F>
int expect_located(F&& fn) {
  try {
    fn();
  } catch (const Error&) {
  }
  return 0;
}

}  // namespace priorlab::fuzz
