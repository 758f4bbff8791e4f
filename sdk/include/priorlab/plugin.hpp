// Writing a plugin: include this header, implement an interface, register it.
//
//   class GaussianPrior : public priorlab::Prior {
//    public:
//     explicit GaussianPrior(const priorlab::BuildContext& ctx);
//     static priorlab::OptionSet options();
//     ...
//   };
//   PRIORLAB_PLUGIN(Prior, gaussian, GaussianPrior, "1.0.0", "standard normal N(0, I)")
//
// and, in exactly one source file of the library, PRIORLAB_LIBRARY_ENTRY() (the CMake helper
// priorlab_add_plugin() generates that file for you). The entry exports the C handshake
// `priorlab_library_info`; each PRIORLAB_PLUGIN exports its factory as a Boost.DLL alias.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/dll/alias.hpp>
#include <torch/torch.h>

#include "priorlab/abi.hpp"
#include "priorlab/context.hpp"
#include "priorlab/dataset.hpp"
#include "priorlab/error.hpp"
#include "priorlab/evaluator.hpp"
#include "priorlab/export.hpp"
#include "priorlab/network.hpp"
#include "priorlab/objective.hpp"
#include "priorlab/options.hpp"
#include "priorlab/prior.hpp"
#include "priorlab/scheduler.hpp"

namespace priorlab {

/// The factory every plugin of interface T exports.
template <class T>
using Factory = std::shared_ptr<T>(const BuildContext&);

namespace detail {

/// One plugin's registration inside its library (strings owned here). `options` is called
/// only after the host's handshake accepted the library (priorlab_library_options): loading a
/// library runs no SDK code, so a library built with another C++ ABI is refused, not fatal.
struct Registration {
  std::string name, kind, version, summary, factory_alias;
  OptionSet (*options)();
  std::string options_json;  // filled on the host's first request
};

/// The library's registrations. Declared hidden so every library has its own list, whatever
/// visibility flags its author used; defined by PRIORLAB_LIBRARY_ENTRY().
PRIORLAB_HIDDEN std::vector<Registration>& library_registry();

struct PRIORLAB_HIDDEN Registrar {
  Registrar(const char* kind, const char* name, const char* version, const char* summary, OptionSet (*options)(),
            const char* alias) {
    library_registry().push_back({name, kind, version, summary, alias, options, {}});
  }
};

/// Builds the C record from the registrations (called once by the entry point).
PRIORLAB_HIDDEN const priorlab_library_info_v1* build_library_info();

}  // namespace detail
}  // namespace priorlab

/// Registers class CLASS (constructible from const BuildContext&, with a static options())
/// as plugin NAME implementing interface priorlab::KIND.
#define PRIORLAB_PLUGIN(KIND, NAME, CLASS, VERSION, SUMMARY)                                      \
  namespace priorlab_plugin_##NAME {                                                              \
  std::shared_ptr<::priorlab::KIND> create(const ::priorlab::BuildContext& ctx) {                 \
    return std::make_shared<CLASS>(ctx);                                                          \
  }                                                                                               \
  static const ::priorlab::detail::Registrar registrar(::priorlab::KIND::kind, #NAME, VERSION,    \
                                                       SUMMARY, &CLASS::options,                  \
                                                       "priorlab_factory_" #NAME);                \
  }                                                                                               \
  BOOST_DLL_ALIAS(priorlab_plugin_##NAME::create, priorlab_factory_##NAME)

/// Defines the library's registry and its exported C handshake. Exactly once per library.
#define PRIORLAB_LIBRARY_ENTRY()                                                                  \
  namespace priorlab::detail {                                                                    \
  std::vector<Registration>& library_registry() {                                                 \
    static std::vector<Registration> registry;                                                    \
    return registry;                                                                              \
  }                                                                                               \
  const priorlab_library_info_v1* build_library_info() {                                          \
    static std::vector<priorlab_plugin_record_v1> records;                                        \
    static priorlab_library_info_v1 info{};                                                       \
    records.clear();                                                                              \
    for (const auto& r : library_registry())                                                      \
      records.push_back({r.name.c_str(), r.kind.c_str(), r.version.c_str(), r.summary.c_str(),    \
                         r.factory_alias.c_str()});                                               \
    info.abi_version = PRIORLAB_ABI_VERSION;                                                      \
    info.info_size = sizeof(priorlab_library_info_v1);                                            \
    info.info_align = alignof(priorlab_library_info_v1);                                          \
    info.record_size = sizeof(priorlab_plugin_record_v1);                                         \
    info.sdk_version = PRIORLAB_VERSION_STRING;                                                   \
    info.torch_version = TORCH_VERSION;                                                           \
    info.cxx11_abi = _GLIBCXX_USE_CXX11_ABI;                                                      \
    info.json_version = NLOHMANN_JSON_VERSION_MAJOR * 10000 + NLOHMANN_JSON_VERSION_MINOR * 100 +  \
                        NLOHMANN_JSON_VERSION_PATCH;                                              \
    info.plugin_count = static_cast<uint32_t>(records.size());                                    \
    info.plugins = records.data();                                                                \
    return &info;                                                                                 \
  }                                                                                               \
  }                                                                                               \
  extern "C" PRIORLAB_API const priorlab_library_info_v1* priorlab_library_info(void) noexcept {   \
    try {                                                                                         \
      static const priorlab_library_info_v1* info = ::priorlab::detail::build_library_info();    \
      return info;                                                                                \
    } catch (...) {                                                                               \
      return nullptr;                                                                             \
    }                                                                                             \
  }                                                                                               \
  extern "C" PRIORLAB_API const char* priorlab_library_options(uint32_t index) noexcept {         \
    static std::string failure;                                                                   \
    try {                                                                                         \
      auto& registry = ::priorlab::detail::library_registry();                                    \
      if (index >= registry.size()) return nullptr;                                               \
      auto& r = registry[index];                                                                  \
      if (r.options_json.empty()) r.options_json = r.options().to_json().dump();                  \
      return r.options_json.c_str();                                                              \
    } catch (const std::exception& e) {                                                           \
      failure = ::nlohmann::json{{"error", e.what()}}.dump();                                     \
    } catch (...) {                                                                               \
      failure = R"({"error": "threw a non-standard exception"})";                                 \
    }                                                                                             \
    return failure.c_str();                                                                       \
  }
