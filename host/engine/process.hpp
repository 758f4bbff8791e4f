// This process as the processes around it see it: the codes it exits with, and the executable
// its child processes run (the runs of `sweep` and `evaluate`, the ranks of --nproc). Below the
// run (run.hpp), so that distributed.cpp, which starts the ranks, needs nothing above it.
#pragma once

#include <string>

namespace priorlab::host {

/// Exit codes: 0 done, 1 training or evaluation failed, 2 bad input, 130 interrupted.
enum ExitCode { kOk = 0, kFailed = 1, kBadInput = 2, kInterrupted = 130 };

/// The priorlab executable that the child processes of `sweep`, `evaluate` and --nproc run:
/// this process's own (/proc/self/exe), unless set_self_executable() named another (the Python
/// module, whose process is python3, names the installed priorlab).
std::string self_executable();
void set_self_executable(const std::string& path);

}  // namespace priorlab::host
