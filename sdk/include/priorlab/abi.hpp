// The handshake every plugin library exports with C linkage. The host calls it before touching
// any C++ symbol and refuses the library when any field disagrees with its own build. Nothing
// a library runs while it loads, nor its handshake, calls the SDK: a library built with
// another C++ ABI (whose SDK calls would be undefined or misread std::string) is refused by
// the handshake, not killed by it. Option declarations, which are SDK objects, are asked for
// only after the handshake passed, through priorlab_library_options.
#pragma once

#include <stdint.h>

#include "priorlab/version.hpp"

#ifdef __cplusplus
extern "C" {
#endif

/// One plugin held by a library. Strings are static, NUL-terminated, UTF-8.
typedef struct priorlab_plugin_record_v1 {
  const char* name;           ///< unique across all loaded libraries, e.g. "vhp"
  const char* kind;           ///< "prior" | "scheduler" | "dataset" | "network" | "objective" | "evaluator"
  const char* version;        ///< the plugin's own version, e.g. "1.0.0"
  const char* summary;        ///< one line for `priorlab plugins`
  const char* factory_alias;  ///< the Boost.DLL alias of its factory
} priorlab_plugin_record_v1;

/// The library's handshake record. The first field stays abi_version in every version, so a
/// host can always read it; the rest is trusted only after abi_version, info_size and
/// info_align all match.
typedef struct priorlab_library_info_v1 {
  uint32_t abi_version;       ///< PRIORLAB_ABI_VERSION the library was built with
  uint32_t info_size;         ///< sizeof(priorlab_library_info_v1) in the library
  uint32_t info_align;        ///< alignof(priorlab_library_info_v1) in the library
  uint32_t record_size;       ///< sizeof(priorlab_plugin_record_v1) in the library
  const char* sdk_version;    ///< PRIORLAB_VERSION_STRING
  const char* torch_version;  ///< TORCH_VERSION, e.g. "1.13.0"
  int32_t cxx11_abi;          ///< _GLIBCXX_USE_CXX11_ABI
  uint32_t json_version;      ///< nlohmann/json major*10000 + minor*100 + patch
  uint32_t plugin_count;
  const priorlab_plugin_record_v1* plugins;
} priorlab_library_info_v1;

typedef const priorlab_library_info_v1* (*priorlab_library_info_fn)(void);

/// Plugin `index`'s option declaration as JSON (an array, see options.hpp), or an object
/// {"error": "..."} when building it threw. Valid while the library is loaded.
typedef const char* (*priorlab_library_options_fn)(uint32_t index);

#ifdef __cplusplus
}
#endif

/// The exported entry point's name.
#define PRIORLAB_ENTRY_SYMBOL "priorlab_library_info"
/// The option declarations' entry point, called only after the handshake passed.
#define PRIORLAB_OPTIONS_SYMBOL "priorlab_library_options"
