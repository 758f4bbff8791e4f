// Dataset "features_csv": feature vectors from a CSV file, one example per line (the paper's
// motion-capture data are 50-D joint-angle vectors; DESIGN.md §5). Optional header row,
// optional label column (by name or index), a test split by fraction or from a second file,
// optional standardisation with the training split's statistics. Shape {F}, not binary.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include <priorlab/sdk.hpp>

#include "../common.hpp"

namespace {

using namespace priorlab;

/// One field of a line: its text (quotes removed) and its 1-based character column.
struct Field {
  std::string text;
  std::int64_t column;
};

/// A parsed file: the header's names (empty without a header), and each data row's fields
/// with its 1-based line number.
struct Table {
  std::string path;
  std::vector<std::string> names;
  std::int64_t header_line = 0;
  std::vector<std::vector<Field>> rows;
  std::vector<std::int64_t> lines;
};

std::string location(const std::string& path, std::int64_t line, std::int64_t column = 0) {
  return column > 0 ? fmt::format("{}:{}:{}", path, line, column) : fmt::format("{}:{}", path, line);
}

/// Splits one line at `delim`. A field may be quoted ("a, b" with "" for a quote inside);
/// spaces around a field are dropped. delim ' ' means runs of spaces and tabs.
std::vector<Field> split_fields(const std::string& text, char delim, const std::string& path, std::int64_t line) {
  std::vector<Field> fields;
  const bool whitespace = delim == ' ';
  const auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  size_t i = 0;
  if (whitespace)
    while (i < text.size() && is_space(text[i])) ++i;
  while (true) {
    while (!whitespace && i < text.size() && is_space(text[i]) && text[i] != delim) ++i;
    Field f{{}, static_cast<std::int64_t>(i + 1)};
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (true) {
        if (i >= text.size())
          throw Error(location(path, line, f.column),
                      "unterminated quoted field (a quoted field must end on its line)");
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            f.text += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        f.text += text[i++];
      }
      while (i < text.size() && is_space(text[i]) && text[i] != delim) ++i;
      if (i < text.size() && text[i] != delim)
        throw Error(
            location(path, line, static_cast<std::int64_t>(i + 1)),
            fmt::format("expected '{}' or the end of the line after a quoted field, found '{}'", delim, text[i]));
    } else {
      const size_t start = i;
      while (i < text.size() && text[i] != delim && !(whitespace && is_space(text[i]))) ++i;
      size_t end = i;
      while (end > start && is_space(text[end - 1])) --end;
      f.text = text.substr(start, end - start);
    }
    fields.push_back(std::move(f));
    if (whitespace)
      while (i < text.size() && is_space(text[i])) ++i;
    if (i >= text.size()) break;
    if (!whitespace) ++i;  // past the delimiter
  }
  return fields;
}

std::optional<double> parse_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

/// Reads `path`: lines split into fields, blank lines skipped, every row with as many fields
/// as the first. header: "yes", "no", or "auto": the first line is a header when one of its
/// fields, other than column `label` (the label column's index when given by index, else -1),
/// is not a number.
Table read_table(const std::string& path, char delim, const std::string& header, std::int64_t label) {
  if (std::filesystem::is_directory(path)) throw Error(path, "is a folder, expected a CSV file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path, fmt::format("cannot open: {}", std::strerror(errno)));
  Table t{path, {}, 0, {}, {}};
  std::string text;
  std::int64_t line = 0, first_line = 0;
  size_t expected = 0;
  while (std::getline(in, text)) {
    ++line;
    // A UTF-8 byte-order mark (spreadsheet exports write one) is not part of the first field:
    // left there it makes a number unparsable and a header-less file's first row its header.
    if (line == 1 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    auto fields = split_fields(text, delim, path, line);
    if (expected == 0) {
      expected = fields.size();
      first_line = line;
      bool numeric = true;
      for (size_t c = 0; c < fields.size(); ++c)
        if (static_cast<std::int64_t>(c) != label) numeric = numeric && parse_number(fields[c].text).has_value();
      if (header == "yes" || (header == "auto" && !numeric)) {
        for (auto& f : fields) t.names.push_back(std::move(f.text));
        t.header_line = line;
        continue;
      }
    }
    if (fields.size() != expected)
      throw Error(location(path, line),
                  fmt::format("expected {} fields (as in line {}), found {}", expected, first_line, fields.size()));
    t.rows.push_back(std::move(fields));
    t.lines.push_back(line);
  }
  if (t.rows.empty()) throw Error(path, "holds no data rows");
  return t;
}

class FeaturesCsvDataset : public TensorDataset {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::string("path", "features.csv").help("CSV file, one example per line; relative to data_root"))
        .add(Option::string("test_path", "")
                 .help("optional second CSV file (same columns) holding the test split; test_fraction is then ignored"))
        .add(Option::string("header", "auto")
                 .choices({"auto", "yes", "no"})
                 .help("first line is a header: auto = when one of its fields is not a number"))
        .add(Option::string("delimiter", ",")
                 .help("field separator, one character; \" \" means runs of spaces and tabs"))
        .add(Option::string("label_column", "")
                 .help("column holding the label, by header name or 0-based index; \"\" = no labels"))
        .add(Option::real("test_fraction", 0.1).min(0).max(0.9).help("share of the rows held out as the test split"))
        .add(Option::real("validation_fraction", 0.0)
                 .min(0)
                 .max(0.9)
                 .help("share of the rows held out as the validation split"))
        .add(Option::boolean("shuffle", true)
                 .help("permute the rows (by seed) before splitting; false: the last rows are test"))
        .add(Option::integer("seed", 0).min(0).help("seed of the permutation"))
        .add(Option::boolean("standardise", false)
                 .help("subtract the training split's mean and divide by its standard deviation, per feature"));
  }

  explicit FeaturesCsvDataset(const BuildContext& ctx) {
    const auto& o = ctx.options;
    const auto delimiter = o.string("delimiter");
    if (delimiter.size() != 1 || delimiter == "\"" || delimiter == "\n" || delimiter == "\r")
      throw Error(o.path() + "/delimiter",
                  fmt::format("expected one character other than a quote or newline, found \"{}\"", delimiter));
    const char delim = delimiter[0];
    // auto-detecting a header must not count a label column of class names against it; a
    // label column given by name needs a header.
    auto header = o.string("header");
    const auto key = o.string("label_column");
    const bool by_index = !key.empty() && key.size() < 10 &&
                          std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (header == "auto" && !key.empty() && !by_index) header = "yes";
    const std::int64_t label_hint = by_index ? std::stoll(key) : -1;
    const Table train = read_table(plugins::data_path(ctx, "path"), delim, header, label_hint);
    std::optional<Table> test;
    if (!o.string("test_path").empty())
      test = read_table(plugins::data_path(ctx, "test_path"), delim, header, label_hint);

    const auto columns = static_cast<std::int64_t>(train.rows.front().size());
    if (test && static_cast<std::int64_t>(test->rows.front().size()) != columns)
      throw Error(
          location(test->path, test->lines.front()),
          fmt::format("expected {} fields (as in {}), found {}", columns, train.path, test->rows.front().size()));
    const auto label = label_index(o, train, columns);
    if (label && columns < 2)
      throw Error(o.path() + "/label_column", "the file has a single column: no features would remain");

    // Labels: numbers when every label is one (long when all are integers), else class names
    // mapped to 0, 1, ... in sorted order over both files.
    std::map<std::string, std::int64_t> classes;
    bool numeric_labels = true, integral_labels = true;
    if (label) {
      const std::vector<const Table*> tables{&train, test ? &*test : nullptr};
      for (const Table* t : tables) {
        if (!t) continue;
        for (const auto& row : t->rows) {
          const auto v = parse_number(row[static_cast<size_t>(*label)].text);
          numeric_labels = numeric_labels && v && std::isfinite(*v);
          integral_labels = integral_labels && v && std::isfinite(*v) && *v == std::round(*v);
          classes.emplace(row[static_cast<size_t>(*label)].text, 0);
        }
      }
      std::int64_t k = 0;
      for (auto& entry : classes) entry.second = k++;
    }
    const auto to_tensors = [&](const Table& t) {
      const auto n = static_cast<std::int64_t>(t.rows.size());
      auto x = torch::empty({n, columns - (label ? 1 : 0)}, torch::kFloat);
      auto* xp = x.data_ptr<float>();
      std::vector<double> labels;
      for (std::int64_t i = 0; i < n; ++i) {
        const auto& row = t.rows[static_cast<size_t>(i)];
        for (std::int64_t c = 0; c < columns; ++c) {
          const auto& f = row[static_cast<size_t>(c)];
          if (label && c == *label) {
            labels.push_back(numeric_labels ? *parse_number(f.text) : static_cast<double>(classes.at(f.text)));
            continue;
          }
          const auto v = parse_number(f.text);
          if (!v || !std::isfinite(*v))
            throw Error(location(t.path, t.lines[static_cast<size_t>(i)], f.column),
                        fmt::format("expected a finite number in field {}{}, found '{}'", c + 1,
                                    t.names.empty() ? "" : " ('" + t.names[static_cast<size_t>(c)] + "')", f.text));
          *xp++ = static_cast<float>(*v);
        }
      }
      torch::Tensor y;
      if (label)
        y = torch::tensor(labels, torch::kDouble).to(numeric_labels && !integral_labels ? torch::kFloat : torch::kLong);
      return std::pair{x, y};
    };
    auto [x, y] = to_tensors(train);

    // Split the main file: train, validation, test over the (permuted) rows.
    const auto n = x.size(0);
    const auto sizes =
        plugins::FractionSplit::of(n, test ? 0.0 : o.real("test_fraction"), o.real("validation_fraction"), o.path());
    if (o.boolean("shuffle")) {
      const auto p = plugins::permutation(n, static_cast<std::uint64_t>(o.integer("seed")));
      const auto order = torch::tensor(p, torch::kLong);
      x = x.index_select(0, order);
      if (y.defined()) y = y.index_select(0, order);
    }
    const auto part = [](const torch::Tensor& t, std::int64_t a, std::int64_t b) {
      return t.defined() ? t.slice(0, a, b) : t;
    };
    torch::Tensor train_x = x.slice(0, 0, sizes.train), val_x = x.slice(0, sizes.train, sizes.train + sizes.validation);
    torch::Tensor test_x = x.slice(0, sizes.train + sizes.validation),
                  test_y = part(y, sizes.train + sizes.validation, n);
    if (test) std::tie(test_x, test_y) = to_tensors(*test);

    if (o.boolean("standardise")) {
      // Population statistics of the training split; a constant feature (std 0) is only centred.
      const auto mean = train_x.mean(0);
      auto std = train_x.std(0, /*unbiased=*/false);
      std = torch::where(std > 1e-12, std, torch::ones_like(std));
      const auto standardise = [&](const torch::Tensor& t) { return (t - mean) / std; };
      train_x = standardise(train_x);
      val_x = standardise(val_x);
      test_x = standardise(test_x);
    }

    info_.shape = {train_x.size(1)};
    info_.binary = false;
    info_.label_name = !label                ? ""
                       : train.names.empty() ? fmt::format("column {}", *label)
                                             : train.names[static_cast<size_t>(*label)];
    set_split(Split::Train, train_x, part(y, 0, sizes.train));
    if (sizes.validation > 0) set_split(Split::Validation, val_x, part(y, sizes.train, sizes.train + sizes.validation));
    if (test_x.size(0) > 0) set_split(Split::Test, test_x, test_y);
  }

 private:
  /// The label column: a header name, else a 0-based index; nullopt when none is asked for.
  static std::optional<std::int64_t> label_index(const Options& o, const Table& t, std::int64_t columns) {
    const auto key = o.string("label_column");
    if (key.empty()) return std::nullopt;
    const auto named = std::find(t.names.begin(), t.names.end(), key);
    if (named != t.names.end()) return static_cast<std::int64_t>(named - t.names.begin());
    const bool digits =
        key.size() < 10 && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      const auto i = std::stoll(key);
      if (i < columns) return i;
      throw Error(o.path() + "/label_column",
                  fmt::format("column index {} out of range: {} has {} columns", i, t.path, columns));
    }
    throw Error(o.path() + "/label_column",
                t.names.empty()
                    ? fmt::format("'{}' is not a column index and {} has no header", key, t.path)
                    : fmt::format("no column '{}' in the header of {} ({})", key, t.path, fmt::join(t.names, ", ")));
  }
};

}  // namespace

PRIORLAB_PLUGIN(Dataset, features_csv, FeaturesCsvDataset, "1.0.0",
                "feature vectors from a CSV file (motion capture), optional labels, fraction or file test split")
