// Handshakes written by hand to be wrong in exactly one field (selected by BAD_* defines).
#include <priorlab/abi.hpp>
#include <priorlab/export.hpp>

extern "C" PRIORLAB_API const priorlab_library_info_v1* priorlab_library_info(void) {
  static priorlab_library_info_v1 info{};
  info.abi_version = PRIORLAB_ABI_VERSION;
  info.info_size = sizeof(priorlab_library_info_v1);
  info.info_align = alignof(priorlab_library_info_v1);
  info.record_size = sizeof(priorlab_plugin_record_v1);
  info.sdk_version = PRIORLAB_VERSION_STRING;
  info.torch_version = "1.13.0";
  info.cxx11_abi = _GLIBCXX_USE_CXX11_ABI;
  info.json_version = 0;
  info.plugin_count = 0;
  info.plugins = nullptr;
#if defined(BAD_size)
  info.info_size += 8;  // as if the library had a field the host does not know
#elif defined(BAD_torch)
  info.torch_version = "0.4.1";
#elif defined(BAD_cxxabi)
  info.cxx11_abi = !_GLIBCXX_USE_CXX11_ABI;
#elif defined(BAD_nullinfo)
  return nullptr;
#endif
  return &info;
}
