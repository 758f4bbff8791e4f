#include "engine/malloc_tuning.hpp"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace priorlab::host {

bool tune_malloc() {
  const char* v = std::getenv("PRIORLAB_MALLOC_TUNING");
  if (v && std::strcmp(v, "0") == 0) return false;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's ceiling for this threshold on 64-bit
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return true;
}

}  // namespace priorlab::host
