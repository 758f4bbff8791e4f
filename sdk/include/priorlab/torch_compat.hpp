// What differs between the LibTorch versions priorlab builds against, in one place: Debian's
// 1.13 and upstream 2.x (pytorch.org's zip, or the one inside a pip `torch` wheel, CUDA or not).
// Code elsewhere calls these instead of the version-dependent API. The plugin handshake
// (abi.hpp) records TORCH_VERSION, so a plugin built against one LibTorch is refused by a host
// built against another before any of its C++ symbols is touched.
//
// Audited for 2.x (README.md, "Your own LibTorch / a GPU"): everything else the SDK, host and
// plugins use has the same signature in 1.13 and 2.x. InputArchive::load_from takes
// std::optional<Device> in 2.x, which a torch::Device converts to; c10::optional became
// std::optional (priorlab uses neither spelling).
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

/// True when the LibTorch being compiled against is at least MAJOR.MINOR.
#define PRIORLAB_TORCH_AT_LEAST(major, minor) \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace priorlab::compat {

/// The number of CUDA devices LibTorch sees, as an int: torch::cuda::device_count() returns
/// size_t in 1.13 and c10::DeviceIndex (a signed 8-bit integer, which fmt would print as a
/// character) in 2.x.
inline int cuda_device_count() { return static_cast<int>(torch::cuda::device_count()); }

}  // namespace priorlab::compat
