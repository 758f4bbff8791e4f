// The build tree's plugins (PRIORLAB_PLUGIN_DIR, set by CMake), discovered once per process: what
// the GoogleTest suite (test_util.hpp) and the fuzz targets (fuzz/fuzz_util.hpp) build plugins
// from. Kept free of GoogleTest, which the fuzz targets do not link.
#pragma once

#include "pipeline/registry.hpp"

namespace priorlab::test {

inline const host::Registry& registry() {
  static const host::Registry r = [] {
    host::Registry reg;
    reg.discover({PRIORLAB_PLUGIN_DIR});
    return reg;
  }();
  return r;
}

}  // namespace priorlab::test
