// Option declarations (what a plugin accepts) and resolved options (what it was given).
//
// A plugin declares its options once, beside its class:
//
//   static priorlab::OptionSet options() {
//     return priorlab::OptionSet{}
//         .add(priorlab::Option::integer("samples", 16).min(1).help("K, importance samples"))
//         .add(priorlab::Option::string("likelihood", "gaussian").choices({"gaussian", "bernoulli"}));
//   }
//
// The host validates a pipeline section against that declaration before construction
// (unknown keys, wrong types, out-of-range values are errors naming the JSON path), fills every
// default in, and hands the plugin an Options object. `priorlab describe` and the docs print
// the same declaration.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "priorlab/export.hpp"

namespace priorlab {

using json = nlohmann::json;

enum class OptionType { Bool, Int, Float, String, IntList, FloatList, StringList };

PRIORLAB_API const char* to_string(OptionType type);

/// One declared option: name, type, default, range or choices, help.
class PRIORLAB_API Option {
 public:
  static Option boolean(std::string name, bool default_value);
  static Option integer(std::string name, std::int64_t default_value);
  static Option real(std::string name, double default_value);
  static Option string(std::string name, std::string default_value);
  static Option int_list(std::string name, std::vector<std::int64_t> default_value);
  static Option real_list(std::string name, std::vector<double> default_value);
  static Option string_list(std::string name, std::vector<std::string> default_value);

  /// Inclusive bounds; for lists they bound every element.
  Option& min(double value) &;
  Option& max(double value) &;
  Option&& min(double value) && { return std::move(min(value)); }
  Option&& max(double value) && { return std::move(max(value)); }
  /// Bounds that exclude the value itself (e.g. beta in (0, 1], alpha in [0, 1)).
  Option& greater_than(double value) &;
  Option&& greater_than(double value) && { return std::move(greater_than(value)); }
  Option& less_than(double value) &;
  Option&& less_than(double value) && { return std::move(less_than(value)); }
  /// For lists: how many entries are allowed (inclusive).
  Option& sizes(std::int64_t min_entries, std::int64_t max_entries) &;
  Option&& sizes(std::int64_t min_entries, std::int64_t max_entries) && {
    return std::move(sizes(min_entries, max_entries));
  }
  /// For integer lists: the product of the entries (a shape's element count) is at most `value`;
  /// checked without overflow.
  Option& max_product(double value) &;
  Option&& max_product(double value) && { return std::move(max_product(value)); }
  Option& choices(std::vector<std::string> allowed) &;
  Option&& choices(std::vector<std::string> allowed) && { return std::move(choices(std::move(allowed))); }
  Option& help(std::string text) &;
  Option&& help(std::string text) && { return std::move(help(std::move(text))); }

  const std::string& name() const { return name_; }
  OptionType type() const { return type_; }
  const json& default_value() const { return default_; }
  const std::optional<double>& minimum() const { return min_; }
  const std::optional<double>& maximum() const { return max_; }
  bool minimum_exclusive() const { return min_exclusive_; }
  bool maximum_exclusive() const { return max_exclusive_; }
  const std::vector<std::string>& allowed() const { return choices_; }
  const std::string& help_text() const { return help_; }

  /// Checks one value; throws Error(path, ...) naming what was expected and found.
  json validate(const json& value, const std::string& path) const;
  /// "integer >= 1", "one of gaussian|bernoulli", ... for messages and `describe`.
  std::string describe_type() const;

  json to_json() const;
  static Option from_json(const json& spec);

 private:
  Option(std::string name, OptionType type, json default_value);
  std::string name_;
  OptionType type_;
  json default_;
  std::optional<double> min_;
  std::optional<double> max_;
  bool min_exclusive_ = false;
  bool max_exclusive_ = false;
  std::optional<std::int64_t> min_size_, max_size_;
  std::optional<double> max_product_;
  std::vector<std::string> choices_;
  std::string help_;
};

/// The ordered declaration of a plugin's (or a host section's) options.
class PRIORLAB_API OptionSet {
 public:
  OptionSet& add(Option option) &;
  OptionSet&& add(Option option) && { return std::move(add(std::move(option))); }

  const std::vector<Option>& items() const& { return items_; }
  /// On a temporary (`for (auto& o : plugin_options().items())`) the items are moved out, so
  /// the loop never walks a destroyed set.
  std::vector<Option> items() && { return std::move(items_); }
  const Option* find(const std::string& name) const;

  /// Validates `section` (an object, or null for "all defaults") against the declaration and
  /// returns it with every default filled in. `path` is the JSON path of the section, used in
  /// errors: "/prior/options: unknown option 'sampels' (known: samples, zeta_dim)".
  json resolve(const json& section, const std::string& path) const;

  json to_json() const;
  static OptionSet from_json(const json& specs);

 private:
  std::vector<Option> items_;
};

/// Resolved options handed to a plugin: typed access, each failure an Error naming the key.
class PRIORLAB_API Options {
 public:
  Options() = default;
  explicit Options(json values, std::string path = {});

  bool boolean(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  double real(const std::string& key) const;
  std::string string(const std::string& key) const;
  std::vector<std::int64_t> int_list(const std::string& key) const;
  std::vector<double> real_list(const std::string& key) const;
  std::vector<std::string> string_list(const std::string& key) const;
  bool has(const std::string& key) const;

  const json& values() const { return values_; }
  const std::string& path() const { return path_; }

 private:
  const json& at(const std::string& key) const;
  json values_ = json::object();
  std::string path_;
};

}  // namespace priorlab
