#include "pipeline/registry.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <boost/dll/runtime_symbol_info.hpp>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace priorlab::host {

std::vector<std::string> plugin_search_path(const std::vector<std::string>& cli_paths) {
  std::vector<std::string> dirs(cli_paths.begin(), cli_paths.end());
  if (const char* env = std::getenv("PRIORLAB_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) dirs.push_back(item);
  }
  boost::system::error_code ec;
  const auto exe = boost::dll::program_location(ec);
  if (!ec) dirs.push_back((fs::path(exe.parent_path().string()) / ".." / "lib" / "priorlab" / "plugins").lexically_normal().string());
  return dirs;
}

std::vector<std::string> check_plugin_dirs(const std::vector<std::string>& cli_paths) {
  std::vector<std::string> warnings;
  for (const auto& dir : cli_paths) {
    std::error_code ec;
    if (!fs::exists(dir, ec)) throw Error("--plugin-path " + dir, "no such folder");
    if (!fs::is_directory(dir, ec)) throw Error("--plugin-path " + dir, "is a file, expected a folder of plugin libraries");
    bool any = false;
    for (const auto& e : fs::directory_iterator(dir, ec))
      any = any || (e.path().extension() == ".so");
    if (!any)
      warnings.push_back(fmt::format("--plugin-path {}: holds no plugin library (*.so; it is not searched recursively)", dir));
  }
  return warnings;
}

std::string check_handshake(const priorlab_library_info_v1* info) {
  if (!info) return "its handshake returned nothing";
  if (info->abi_version != PRIORLAB_ABI_VERSION)
    return fmt::format("built for plugin ABI {}, this host speaks ABI {}; rebuild the plugin against SDK {}",
                       info->abi_version, PRIORLAB_ABI_VERSION, PRIORLAB_VERSION_STRING);
  if (info->info_size != sizeof(priorlab_library_info_v1) || info->info_align != alignof(priorlab_library_info_v1))
    return fmt::format("handshake record is {} bytes aligned to {}, the host expects {} aligned to {}", info->info_size,
                       info->info_align, sizeof(priorlab_library_info_v1), alignof(priorlab_library_info_v1));
  if (info->record_size != sizeof(priorlab_plugin_record_v1))
    return fmt::format("plugin record is {} bytes, the host expects {}", info->record_size,
                       sizeof(priorlab_plugin_record_v1));
  const std::string torch = info->torch_version ? info->torch_version : "(none)";
  if (torch != TORCH_VERSION)
    return fmt::format("built against LibTorch {}, the host uses LibTorch {}", torch, TORCH_VERSION);
  if (info->cxx11_abi != _GLIBCXX_USE_CXX11_ABI)
    return fmt::format("built with _GLIBCXX_USE_CXX11_ABI={}, the host with {}", info->cxx11_abi,
                       _GLIBCXX_USE_CXX11_ABI);
  const uint32_t json = NLOHMANN_JSON_VERSION_MAJOR * 10000 + NLOHMANN_JSON_VERSION_MINOR * 100 + NLOHMANN_JSON_VERSION_PATCH;
  if (info->json_version != json)
    return fmt::format("built against nlohmann/json {}, the host uses {}", info->json_version, json);
  if (info->plugin_count > 0 && !info->plugins) return "declares plugins but gives no records";
  return {};
}

void Registry::discover(const std::vector<std::string>& dirs) {
  for (const auto& dir : dirs) {
    searched_.push_back(dir);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_regular_file() && e.path().extension() == ".so") files.push_back(e.path());
    std::sort(files.begin(), files.end());  // deterministic order, so shadowing is predictable
    for (const auto& f : files) load_library(f.string());
  }
}

bool Registry::load_library(const std::string& path) {
  auto refuse = [&](const std::string& why) {
    refusals_.push_back(fmt::format("{}: {}", path, why));
    return false;
  };
  // Immediate binding: a symbol the library needs and the host does not have (another SDK,
  // another C++ ABI) is a refusal here, with dlopen's own words, instead of a fatal "symbol
  // lookup error" at the first call. Boost.DLL drops dlerror(), so dlopen is asked directly;
  // the probe's reference keeps the library loaded until Boost.DLL holds its own.
  ::dlerror();
  void* probe = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!probe) {
    const char* err = ::dlerror();
    std::string why = err ? err : "dlopen failed";
    if (why.compare(0, path.size() + 2, path + ": ") == 0) why = why.substr(path.size() + 2);
    if (why.find("undefined symbol") != std::string::npos) why += " (built against another SDK or C++ ABI?)";
    return refuse("could not load: " + why);
  }
  boost::system::error_code ec;
  auto lib = std::make_shared<boost::dll::shared_library>();
  lib->load(path, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  ::dlclose(probe);
  if (ec || !lib->is_loaded()) return refuse("could not load: " + ec.message());
  if (!lib->has(PRIORLAB_ENTRY_SYMBOL))
    return refuse(fmt::format("entry point '{}' not found (not a priorlab plugin?)", PRIORLAB_ENTRY_SYMBOL));
  const auto& entry = lib->get<const priorlab_library_info_v1*()>(PRIORLAB_ENTRY_SYMBOL);
  const priorlab_library_info_v1* info = entry();
  if (const auto why = check_handshake(info); !why.empty()) return refuse(why);
  if (info->plugin_count > 0 && !lib->has(PRIORLAB_OPTIONS_SYMBOL))
    return refuse(fmt::format("entry point '{}' not found", PRIORLAB_OPTIONS_SYMBOL));

  std::vector<PluginEntry> found;
  for (uint32_t i = 0; i < info->plugin_count; ++i) {
    const auto& r = info->plugins[i];
    PluginEntry p;
    p.name = r.name ? r.name : "";
    p.kind = r.kind ? r.kind : "";
    p.version = r.version ? r.version : "";
    p.summary = r.summary ? r.summary : "";
    p.factory_alias = r.factory_alias ? r.factory_alias : "";
    p.library_path = path;
    p.library = lib;
    // Only now, with the handshake passed, does the library run SDK code: its options().
    try {
      const char* text = lib->get<const char*(uint32_t)>(PRIORLAB_OPTIONS_SYMBOL)(i);
      const auto declaration = nlohmann::json::parse(text ? text : "[]");
      if (declaration.is_object() && declaration.contains("error"))
        return refuse(fmt::format("plugin '{}': building its option declaration threw: {}", p.name,
                                  declaration["error"].get<std::string>()));
      p.options = OptionSet::from_json(declaration);
    } catch (const std::exception& e) {
      return refuse(fmt::format("plugin '{}' has a malformed option declaration: {}", p.name, e.what()));
    }
    found.push_back(std::move(p));
  }
  for (auto& p : found) {
    if (const PluginEntry* other = find_any(p.name)) {
      refusals_.push_back(fmt::format("{}: plugin '{}' ignored, already provided by {}", path, p.name, other->library_path));
      continue;
    }
    plugins_.push_back(std::move(p));
  }
  return true;
}

void Registry::add(PluginEntry entry) {
  if (!entry.make) throw Error(fmt::format("plugin '{}'", entry.name), "an in-process plugin needs a factory");
  if (const PluginEntry* other = find_any(entry.name))
    throw Error(fmt::format("plugin '{}'", entry.name),
                fmt::format("the name is taken by the {} from {}; choose another", other->kind, other->library_path));
  plugins_.push_back(std::move(entry));
}

const PluginEntry* Registry::find_any(const std::string& name) const {
  for (const auto& p : plugins_)
    if (p.name == name) return &p;
  return nullptr;
}

const PluginEntry& Registry::find(const std::string& name, const std::string& kind, const std::string& path) const {
  const PluginEntry* p = find_any(name);
  if (p && p->kind == kind) return *p;
  std::string available;
  for (const auto& q : plugins_)
    if (q.kind == kind) available += (available.empty() ? "" : ", ") + q.name;
  if (p)
    throw Error(path, fmt::format("plugin '{}' is of kind '{}', expected kind '{}' (available: {})", name, p->kind, kind,
                                  available.empty() ? "none" : available));
  std::vector<std::string> names;
  for (const auto& q : plugins_)
    if (q.kind == kind) names.push_back(q.name);
  throw Error(path, fmt::format("unknown {} '{}' (available: {}; see `priorlab plugins`){}", kind, name,
                                available.empty() ? "none found" : available, unknown_hint(name, names)));
}

std::string Registry::unknown_hint(const std::string& name, const std::vector<std::string>& available) const {
  std::string hint = did_you_mean(name, available);
  std::string refused;
  for (const auto& r : refusals_) refused += (refused.empty() ? "" : "; ") + r;
  if (!refused.empty()) hint += "; refused libraries: " + refused;
  std::string searched;
  for (const auto& d : searched_) searched += (searched.empty() ? "" : ", ") + d;
  return hint + fmt::format("; a plugin of your own? pass --plugin-path DIR or set PRIORLAB_PLUGIN_PATH (searched: {})",
                            searched.empty() ? "nothing" : searched);
}

}  // namespace priorlab::host
