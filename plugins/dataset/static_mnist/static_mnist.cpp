// Dataset "static_mnist": the statically binarised MNIST of Larochelle & Murray (2011) in its
// `.amat` text files, one example per line as space-separated 0/1 values (DESIGN.md §5). The
// standard 50,000 / 10,000 / 10,000 split is the three files; there are no labels.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <priorlab/sdk.hpp>

#include "../common.hpp"

namespace {

using namespace priorlab;
using priorlab::plugins::ImageDataset;

/// Parses one `.amat` file into [N, dimension] uint8 0/1. Whitespace (spaces, tabs, CR)
/// separates values; blank lines at the end are ignored. Every other deviation is an Error at
/// "path:line:column" (1-based, column in characters): a value that is not 0 or 1 (written as
/// any number, e.g. "1" or "1.0"), a line with the wrong number of values, an empty file.
torch::Tensor read_amat(const std::string& path, std::int64_t dimension) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path, fmt::format("cannot open: {}; the files binarized_mnist_{{train,valid,test}}.amat come from "
                                  "Larochelle's site (see plugins/dataset/static_mnist/README.md)",
                                  std::strerror(errno)));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();

  std::vector<std::uint8_t> values;
  values.reserve(text.size() / 2 + 1);
  std::int64_t line = 0, rows = 0, pending_blank = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    ++line;
    std::int64_t count = 0;
    size_t i = pos;
    while (i < end) {
      const char c = text[i];
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < end && text[j] != ' ' && text[j] != '\t' && text[j] != '\r') ++j;
      const auto column = static_cast<std::int64_t>(i - pos + 1);
      std::uint8_t v = 0;
      if (j == i + 1 && (c == '0' || c == '1')) {
        v = static_cast<std::uint8_t>(c - '0');  // the fast path: every value of the real files
      } else {
        const std::string token = text.substr(i, j - i);
        char* stop = nullptr;
        const double d = std::strtod(token.c_str(), &stop);
        if (stop != token.c_str() + token.size() || (d != 0.0 && d != 1.0))
          throw Error(fmt::format("{}:{}:{}", path, line, column), fmt::format("expected 0 or 1, found '{}'", token));
        v = static_cast<std::uint8_t>(d);
      }
      if (count == dimension)
        throw Error(fmt::format("{}:{}:{}", path, line, column),
                    fmt::format("expected {} values per line, found more", dimension));
      values.push_back(v);
      ++count;
      i = j;
    }
    if (count == 0) {
      ++pending_blank;  // an error only if a non-blank line follows
    } else {
      if (pending_blank > 0)
        throw Error(fmt::format("{}:{}", path, line - pending_blank),
                    fmt::format("expected {} values, found a blank line", dimension));
      if (count != dimension)
        throw Error(fmt::format("{}:{}", path, line), fmt::format("expected {} values, found {}", dimension, count));
      ++rows;
    }
    pos = end + 1;
  }
  if (rows == 0) throw Error(path, "holds no examples");
  auto x = torch::empty({rows, dimension}, torch::kUInt8);
  std::memcpy(x.data_ptr<std::uint8_t>(), values.data(), values.size());
  return x;
}

class StaticMnistDataset : public ImageDataset {
 public:
  static OptionSet options() {
    return OptionSet{}
        .add(Option::string("directory", "static_mnist")
                 .help("folder with binarized_mnist_train.amat, binarized_mnist_valid.amat, binarized_mnist_test.amat; "
                       "relative to data_root"))
        .add(Option::int_list("shape", {1, 28, 28})
                 .min(1)
                 .sizes(1, 4)
                 .max_product(1 << 24)
                 .help("shape of one example; a line holds its product of values"))
        .add(Option::boolean("validation_in_train", false)
                 .help("append the validation file to the train split (60,000 training images, no validation split)"));
  }

  // The values are 0/1 already: the shared image code keeps them as uint8 codes of scale 1
  // without binarising, so a draw is an index_select and a cast to float.
  explicit StaticMnistDataset(const BuildContext& ctx) : ImageDataset(plugins::Binarisation::None, 0) {
    const auto dir = std::filesystem::path(plugins::data_path(ctx, "directory"));
    info_.shape = ctx.options.int_list("shape");
    const auto dimension = info_.dimension();
    auto shaped = [&](const torch::Tensor& x) {  // [N, dimension] -> [N, *shape]
      std::vector<std::int64_t> s{x.size(0)};
      s.insert(s.end(), info_.shape.begin(), info_.shape.end());
      return x.reshape(s);
    };
    auto train = read_amat((dir / "binarized_mnist_train.amat").string(), dimension);
    auto valid = read_amat((dir / "binarized_mnist_valid.amat").string(), dimension);
    auto test = read_amat((dir / "binarized_mnist_test.amat").string(), dimension);
    if (ctx.options.boolean("validation_in_train")) {
      set_images(Split::Train, shaped(torch::cat({train, valid})), {}, 1.0F);
    } else {
      set_images(Split::Train, shaped(train), {}, 1.0F);
      set_images(Split::Validation, shaped(valid), {}, 1.0F);
    }
    set_images(Split::Test, shaped(test), {}, 1.0F);
    info_.binary = true;
  }
};

}  // namespace

PRIORLAB_PLUGIN(Dataset, static_mnist, StaticMnistDataset, "1.0.0",
                "statically binarised MNIST (Larochelle's .amat files), 50k/10k/10k, no labels")
