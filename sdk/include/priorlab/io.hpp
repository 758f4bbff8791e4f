// Files written whole or not at all: write to a temporary beside the target, then rename.
#pragma once

#include <functional>
#include <string>

#include <torch/torch.h>

#include "priorlab/export.hpp"

namespace priorlab {

/// Writes `content` to `path` atomically (temporary file in the same folder, fsync, rename).
PRIORLAB_API void write_file_atomic(const std::string& path, const std::string& content);

/// Calls write(tmp_path) and renames tmp_path to path only if it returned without throwing;
/// the temporary keeps `path`'s extension (OpenCV picks the format from it).
PRIORLAB_API void write_atomic_with(const std::string& path, const std::function<void(const std::string&)>& write);

/// Reads a whole file; throws Error naming the file when it cannot.
PRIORLAB_API std::string read_file(const std::string& path);

}  // namespace priorlab
