// Plugin discovery, the ABI handshake, and construction of plugin objects.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>

#include "priorlab/abi.hpp"
#include "priorlab/context.hpp"
#include "priorlab/error.hpp"
#include "priorlab/options.hpp"
#include "priorlab/plugin.hpp"

namespace priorlab::host {

/// One plugin found in a library that passed the handshake.
struct PluginEntry {
  std::string name, kind, version, summary, library_path, factory_alias;
  OptionSet options;
  std::shared_ptr<boost::dll::shared_library> library;
  /// A plugin defined in this process rather than in a library (the Python module's
  /// priorlab.register): constructs the object, a std::shared_ptr<T> of the entry's kind held
  /// as void. Null for library plugins.
  std::function<std::shared_ptr<void>(const BuildContext&)> make;
};

/// The search path: --plugin-path entries, then PRIORLAB_PLUGIN_PATH (':'-separated), then
/// <executable dir>/../lib/priorlab/plugins (true for the build tree and an installed tree).
std::vector<std::string> plugin_search_path(const std::vector<std::string>& cli_paths);

/// Checks the folders given with --plugin-path: one that does not exist, or is not a folder,
/// is an Error; one that holds no plugin library (*.so) gives a warning, returned.
std::vector<std::string> check_plugin_dirs(const std::vector<std::string>& cli_paths);

/// The host's expectations, compared field by field with a library's handshake record.
/// Returns an empty string when the library is acceptable, else why not (one line).
std::string check_handshake(const priorlab_library_info_v1* info);

class Registry {
 public:
  /// Loads every shared library in `dirs` (non-recursive). Libraries that fail to load or fail
  /// the handshake are never used; why is kept in refusals(). Libraries stay loaded for the
  /// registry's lifetime, and every object created holds its library too.
  void discover(const std::vector<std::string>& dirs);

  /// Loads one library; returns false and records the refusal when it is not usable.
  bool load_library(const std::string& path);

  /// Adds a plugin defined in this process (`entry.make` set, no library). A name another
  /// plugin already has is an Error naming where that one comes from.
  void add(PluginEntry entry);

  const std::vector<PluginEntry>& plugins() const { return plugins_; }
  const std::vector<std::string>& refusals() const { return refusals_; }
  const std::vector<std::string>& searched() const { return searched_; }

  /// The plugin `name` of `kind`; throws Error(path, "unknown prior 'x' (available: ...)").
  const PluginEntry& find(const std::string& name, const std::string& kind, const std::string& path) const;
  /// Any kind; nullptr when absent.
  const PluginEntry* find_any(const std::string& name) const;
  /// What to tell a user whose plugin `name` was not found: a close name among `available`,
  /// the refused libraries (one may hold it), and where plugins of one's own go.
  std::string unknown_hint(const std::string& name, const std::vector<std::string>& available) const;

  /// Constructs plugin `ctx.name` implementing T. Exceptions from the plugin are caught here
  /// and rethrown as Error naming the plugin. The result keeps its library loaded.
  template <class T>
  std::shared_ptr<T> create(const BuildContext& ctx) const;

 private:
  std::vector<PluginEntry> plugins_;
  std::vector<std::string> refusals_;
  std::vector<std::string> searched_;
};

/// Runs `fn` and turns any exception escaping a plugin into one located Error.
template <class F>
auto call_plugin(const std::string& plugin, F&& fn) -> decltype(fn()) {
  const std::string where = fmt::format("plugin '{}'", plugin);
  try {
    return fn();
  } catch (const Error& e) {
    throw e.located(where);
  } catch (const c10::Error& e) {
    throw Error(where, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(where, e.what());
  } catch (...) {
    throw Error(where, "threw an unknown exception");
  }
}

template <class T>
std::shared_ptr<T> Registry::create(const BuildContext& ctx) const {
  const PluginEntry& entry = find(ctx.name, T::kind, ctx.path);
  if (entry.make) {  // in-process: find() checked that the entry's kind is T's
    std::shared_ptr<void> made = call_plugin(ctx.name, [&] { return entry.make(ctx); });
    if (!made) throw Error(fmt::format("plugin '{}'", ctx.name), "factory returned no object");
    return std::static_pointer_cast<T>(made);
  }
  if (!entry.library->has(entry.factory_alias))
    throw Error(entry.library_path, fmt::format("plugin '{}' declares factory '{}' but the library does not export it",
                                                entry.name, entry.factory_alias));
  auto& factory = entry.library->get_alias<Factory<T>>(entry.factory_alias);
  std::shared_ptr<T> object = call_plugin(ctx.name, [&] { return factory(ctx); });
  if (!object) throw Error(fmt::format("plugin '{}'", ctx.name), "factory returned no object");
  // The returned pointer owns {library, object}; members are destroyed in reverse order, so the
  // object (whose destructor is plugin code) goes before the library can be unloaded.
  struct Holder {
    std::shared_ptr<boost::dll::shared_library> library;
    std::shared_ptr<T> object;
  };
  auto holder = std::make_shared<Holder>(Holder{entry.library, object});
  return std::shared_ptr<T>(holder, object.get());
}

}  // namespace priorlab::host
