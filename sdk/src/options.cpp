#include "priorlab/options.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

#include "priorlab/error.hpp"

namespace priorlab {

const char* to_string(OptionType type) {
  switch (type) {
    case OptionType::Bool: return "boolean";
    case OptionType::Int: return "integer";
    case OptionType::Float: return "number";
    case OptionType::String: return "string";
    case OptionType::IntList: return "list of integers";
    case OptionType::FloatList: return "list of numbers";
    case OptionType::StringList: return "list of strings";
  }
  return "?";
}

namespace {

OptionType type_from_string(const std::string& s) {
  for (auto t : {OptionType::Bool, OptionType::Int, OptionType::Float, OptionType::String, OptionType::IntList,
                 OptionType::FloatList, OptionType::StringList})
    if (s == to_string(t)) return t;
  throw Error("option declaration", "unknown option type '" + s + "'");
}

// What a JSON value is, in the words of an error message.
std::string found(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("{} {}", v.type_name(), text);
}

// Integral bounds print whole (1048576, not 1.04858e+06); others as %g.
std::string number(double v) {
  if (std::abs(v) < 1e15 && std::floor(v) == v) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{:g}", v);
}

}  // namespace

Option::Option(std::string name, OptionType type, json default_value)
    : name_(std::move(name)), type_(type), default_(std::move(default_value)) {}

Option Option::boolean(std::string name, bool v) { return Option(std::move(name), OptionType::Bool, v); }
Option Option::integer(std::string name, std::int64_t v) { return Option(std::move(name), OptionType::Int, v); }
Option Option::real(std::string name, double v) { return Option(std::move(name), OptionType::Float, v); }
Option Option::string(std::string name, std::string v) { return Option(std::move(name), OptionType::String, v); }
Option Option::int_list(std::string name, std::vector<std::int64_t> v) {
  return Option(std::move(name), OptionType::IntList, v);
}
Option Option::real_list(std::string name, std::vector<double> v) {
  return Option(std::move(name), OptionType::FloatList, v);
}
Option Option::string_list(std::string name, std::vector<std::string> v) {
  return Option(std::move(name), OptionType::StringList, v);
}

Option& Option::min(double value) & {
  min_ = value;
  min_exclusive_ = false;
  return *this;
}
Option& Option::greater_than(double value) & {
  min_ = value;
  min_exclusive_ = true;
  return *this;
}
Option& Option::max(double value) & {
  max_ = value;
  max_exclusive_ = false;
  return *this;
}
Option& Option::less_than(double value) & {
  max_ = value;
  max_exclusive_ = true;
  return *this;
}
Option& Option::sizes(std::int64_t min_entries, std::int64_t max_entries) & {
  min_size_ = min_entries;
  max_size_ = max_entries;
  return *this;
}
Option& Option::max_product(double value) & {
  max_product_ = value;
  return *this;
}
Option& Option::choices(std::vector<std::string> allowed) & {
  choices_ = std::move(allowed);
  return *this;
}
Option& Option::help(std::string text) & {
  help_ = std::move(text);
  return *this;
}

std::string Option::describe_type() const {
  std::string text = to_string(type_);
  if (!choices_.empty()) {
    text += ", one of ";
    for (size_t i = 0; i < choices_.size(); ++i) text += (i ? "|" : "") + choices_[i];
  }
  if (min_ && max_) {
    text += fmt::format(" in {}{}, {}{}", min_exclusive_ ? "(" : "[", number(*min_), number(*max_),
                        max_exclusive_ ? ")" : "]");
  } else {
    if (min_) text += fmt::format(" {} {}", min_exclusive_ ? ">" : ">=", number(*min_));
    if (max_) text += fmt::format(" {} {}", max_exclusive_ ? "<" : "<=", number(*max_));
  }
  if (min_size_ && max_size_)
    text += *min_size_ == *max_size_ ? fmt::format(", {} entries", *min_size_)
                                     : fmt::format(", {} to {} entries", *min_size_, *max_size_);
  if (max_product_) text += fmt::format(", product <= {}", number(*max_product_));
  return text;
}

json Option::validate(const json& value, const std::string& path) const {
  auto fail = [&](const std::string& what) {
    throw Error(path, fmt::format("expected {}, found {}", what.empty() ? describe_type() : what, found(value)));
  };
  auto check_range = [&](double x) {
    bool low = min_ && (min_exclusive_ ? !(x > *min_) : !(x >= *min_));
    bool high = max_ && (max_exclusive_ ? !(x < *max_) : !(x <= *max_));
    if (low || high || std::isnan(x)) fail("");
  };
  auto scalar = [&](const json& v, OptionType t) -> json {
    switch (t) {
      case OptionType::Bool:
        if (!v.is_boolean()) fail("");
        return v;
      case OptionType::Int:
        if (v.is_number_integer()) {
          check_range(static_cast<double>(v.get<std::int64_t>()));
          return v;
        }
        // 1e3 or 1000.0 in a config are integers in intent: accept exact integral floats.
        if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() && std::abs(v.get<double>()) < 9e15) {
          check_range(v.get<double>());
          return static_cast<std::int64_t>(v.get<double>());
        }
        fail("");
        break;
      case OptionType::Float:
        if (!v.is_number()) fail("");
        check_range(v.get<double>());
        return v.get<double>();
      case OptionType::String:
        if (!v.is_string()) fail("");
        if (!choices_.empty() && std::find(choices_.begin(), choices_.end(), v.get<std::string>()) == choices_.end())
          fail("");
        return v;
      default: break;
    }
    return v;
  };
  switch (type_) {
    case OptionType::IntList:
    case OptionType::FloatList:
    case OptionType::StringList: {
      if (!value.is_array()) fail("");
      const auto n = static_cast<std::int64_t>(value.size());
      if ((min_size_ && n < *min_size_) || (max_size_ && n > *max_size_))
        fail("");
      const OptionType element = type_ == OptionType::IntList     ? OptionType::Int
                                 : type_ == OptionType::FloatList ? OptionType::Float
                                                                  : OptionType::String;
      json out = json::array();
      for (size_t i = 0; i < value.size(); ++i) {
        try {
          out.push_back(scalar(value[i], element));
        } catch (const Error&) {
          Option scalar_option = *this;
          scalar_option.type_ = element;
          scalar_option.min_size_ = scalar_option.max_size_ = std::nullopt;
          scalar_option.max_product_ = std::nullopt;
          throw Error(fmt::format("{}/{}", path, i), fmt::format("expected each element to be {}, found {}",
                                                                 scalar_option.describe_type(), found(value[i])));
        }
      }
      if (max_product_) {
        // In doubles, stopping once past the bound: no integer overflow whatever the entries.
        double product = 1;
        for (const auto& v : out)
          if ((product *= v.get<double>()) > *max_product_) fail("");
      }
      return out;
    }
    default: return scalar(value, type_);
  }
}

json Option::to_json() const {
  json j{{"name", name_}, {"type", to_string(type_)}, {"default", default_}, {"help", help_}};
  if (min_) j["min"] = *min_;
  if (min_exclusive_) j["min_exclusive"] = true;
  if (max_) j["max"] = *max_;
  if (max_exclusive_) j["max_exclusive"] = true;
  if (min_size_) j["min_size"] = *min_size_;
  if (max_size_) j["max_size"] = *max_size_;
  if (max_product_) j["max_product"] = *max_product_;
  if (!choices_.empty()) j["choices"] = choices_;
  return j;
}

Option Option::from_json(const json& spec) {
  try {
    Option o(spec.at("name").get<std::string>(), type_from_string(spec.at("type").get<std::string>()),
             spec.at("default"));
    if (spec.contains("min")) o.min_ = spec["min"].get<double>();
    if (spec.contains("min_exclusive")) o.min_exclusive_ = spec["min_exclusive"].get<bool>();
    if (spec.contains("max")) o.max_ = spec["max"].get<double>();
    if (spec.contains("max_exclusive")) o.max_exclusive_ = spec["max_exclusive"].get<bool>();
    if (spec.contains("min_size")) o.min_size_ = spec["min_size"].get<std::int64_t>();
    if (spec.contains("max_size")) o.max_size_ = spec["max_size"].get<std::int64_t>();
    if (spec.contains("max_product")) o.max_product_ = spec["max_product"].get<double>();
    if (spec.contains("choices")) o.choices_ = spec["choices"].get<std::vector<std::string>>();
    if (spec.contains("help")) o.help_ = spec["help"].get<std::string>();
    return o;
  } catch (const json::exception& e) {
    throw Error("option declaration", std::string("malformed: ") + e.what());
  }
}

OptionSet& OptionSet::add(Option option) & {
  if (find(option.name())) throw Error("option declaration", "option '" + option.name() + "' declared twice");
  items_.push_back(std::move(option));
  return *this;
}

const Option* OptionSet::find(const std::string& name) const {
  for (const auto& o : items_)
    if (o.name() == name) return &o;
  return nullptr;
}

json OptionSet::resolve(const json& section, const std::string& path) const {
  if (!section.is_null() && !section.is_object())
    throw Error(path, fmt::format("expected an object of options, found {}", found(section)));
  json out = json::object();
  if (section.is_object()) {
    for (const auto& [key, value] : section.items()) {
      const Option* o = find(key);
      if (!o) {
        std::string known;
        std::vector<std::string> names;
        for (const auto& item : items_) known += (known.empty() ? "" : ", ") + item.name(), names.push_back(item.name());
        throw Error(path + "/" + key, fmt::format("unknown option '{}' (known: {}){}", key, known.empty() ? "none" : known,
                                                  did_you_mean(key, names)));
      }
      out[key] = o->validate(value, path + "/" + key);
    }
  }
  for (const auto& o : items_)
    if (!out.contains(o.name())) out[o.name()] = o.default_value();
  return out;
}

json OptionSet::to_json() const {
  json j = json::array();
  for (const auto& o : items_) j.push_back(o.to_json());
  return j;
}

OptionSet OptionSet::from_json(const json& specs) {
  OptionSet set;
  for (const auto& s : specs) set.add(Option::from_json(s));
  return set;
}

Options::Options(json values, std::string path) : values_(std::move(values)), path_(std::move(path)) {}

bool Options::has(const std::string& key) const { return values_.contains(key); }

const json& Options::at(const std::string& key) const {
  if (!values_.contains(key)) throw Error(path_ + "/" + key, "option not declared by this plugin");
  return values_[key];
}

template <class T>
static T get_as(const json& v, const std::string& where, const char* what) {
  try {
    return v.get<T>();
  } catch (const json::exception&) {
    throw Error(where, fmt::format("expected {}, found {}", what, found(v)));
  }
}

bool Options::boolean(const std::string& k) const { return get_as<bool>(at(k), path_ + "/" + k, "boolean"); }
std::int64_t Options::integer(const std::string& k) const {
  const json& v = at(k);
  if (!v.is_number_integer()) throw Error(path_ + "/" + k, "expected integer, found " + found(v));
  return v.get<std::int64_t>();
}
double Options::real(const std::string& k) const {
  const json& v = at(k);
  if (!v.is_number()) throw Error(path_ + "/" + k, "expected number, found " + found(v));
  return v.get<double>();
}
std::string Options::string(const std::string& k) const { return get_as<std::string>(at(k), path_ + "/" + k, "string"); }
std::vector<std::int64_t> Options::int_list(const std::string& k) const {
  return get_as<std::vector<std::int64_t>>(at(k), path_ + "/" + k, "list of integers");
}
std::vector<double> Options::real_list(const std::string& k) const {
  return get_as<std::vector<double>>(at(k), path_ + "/" + k, "list of numbers");
}
std::vector<std::string> Options::string_list(const std::string& k) const {
  return get_as<std::vector<std::string>>(at(k), path_ + "/" + k, "list of strings");
}

}  // namespace priorlab
