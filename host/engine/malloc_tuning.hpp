// The process's glibc malloc settings (issue 11), in one place for the host and the benchmarks.
#pragma once

namespace priorlab::host {

/// glibc serves blocks of 128 KiB and more with mmap and gives them back with munmap, and trims
/// the heap's top above 128 KiB; its dynamic threshold only rises as far as the largest block
/// freed so far. A training step allocates and frees activations of about 1 MiB (a [1024, 256]
/// float layer of p(z|zeta)) dozens of times, so every step paid fresh, zero-filled pages: 19.5 %
/// of a Table 3 step's samples were kernel page faults and clearing (perf, docs/performance.md).
/// Fixed thresholds (mmap above 32 MiB, glibc's ceiling for it on 64-bit; trim above 256 MiB)
/// keep freed blocks in the heap for reuse. Allocation does not change the arithmetic: results
/// are bit-identical (Training.MallocTuningKeepsResults). PRIORLAB_MALLOC_TUNING=0 keeps glibc's
/// defaults (the "before" of bench/side_by_side.py). Returns whether the settings were applied.
bool tune_malloc();

}  // namespace priorlab::host
