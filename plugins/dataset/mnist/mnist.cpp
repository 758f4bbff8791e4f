// Datasets "mnist" and "fashion_mnist": 28x28 grey images in LeCun's IDX format (DESIGN.md §5),
// split by the dynamic MNIST protocol: the first (60000 - validation_size) images of the
// training file are the train split, the last validation_size the validation split, the t10k
// file the test split. Binarisation (dynamic by default) is the shared code of common.hpp.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include <priorlab/sdk.hpp>

#include "../common.hpp"

namespace {

using namespace priorlab;
using priorlab::plugins::ImageDataset;

/// The contents of one IDX file: dims as the header declares them, data [dims...] uint8.
struct IdxFile {
  std::vector<std::int64_t> dims;
  torch::Tensor data;
};

/// Reads an IDX file of unsigned bytes with `rank` dimensions:
///   bytes 0-3   magic: 0x00 0x00, type 0x08 (unsigned byte), rank
///   then rank   big-endian uint32 sizes
///   then        prod(sizes) bytes, row-major, nothing after.
/// Every deviation is an Error naming the file, the byte offset and what was found; `hint` is
/// appended when the file cannot be opened (how to prepare it).
IdxFile read_idx(const std::string& path, int rank, const std::string& hint) {
  std::error_code ec;
  const auto file_size = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
  std::ifstream in(path, std::ios::binary);
  if (ec || !in) throw Error(path, fmt::format("cannot open: {}; {}", ec ? ec.message() : std::strerror(errno), hint));
  const std::int64_t header = 4 + 4 * static_cast<std::int64_t>(rank);
  if (file_size < 4) throw Error(path, fmt::format("{} bytes, too short for an IDX header", file_size));
  unsigned char magic[4] = {};
  in.read(reinterpret_cast<char*>(magic), 4);
  if (magic[0] != 0 || magic[1] != 0 || magic[2] != 0x08 || magic[3] != rank) {
    std::string found = fmt::format("{:02x} {:02x} {:02x} {:02x}", magic[0], magic[1], magic[2], magic[3]);
    if (magic[0] == 0x1f && magic[1] == 0x8b) found += " (a gzip file: gunzip it first)";
    throw Error(path + ", byte 0",
                fmt::format("expected the IDX magic 00 00 08 {:02x} (unsigned bytes, {} dimensions), found {}", rank,
                            rank, found));
  }
  if (file_size < header)
    throw Error(path,
                fmt::format("truncated header: {} dimensions need {} bytes, the file has {}", rank, header, file_size));
  IdxFile f;
  // The product of three 32-bit sizes can overflow 64 bits: `count` saturates at file_size + 1
  // (anything beyond the file is an error anyway), `declared` keeps the size for the message.
  std::int64_t count = 1;
  double declared_bytes = 1;
  for (int d = 0; d < rank; ++d) {
    unsigned char b[4] = {};
    in.read(reinterpret_cast<char*>(b), 4);
    const std::int64_t n = (std::int64_t{b[0]} << 24) | (std::int64_t{b[1]} << 16) | (std::int64_t{b[2]} << 8) | b[3];
    f.dims.push_back(n);
    declared_bytes *= static_cast<double>(n);
    count = (n > 0 && count > file_size / n) ? file_size + 1 : count * n;
  }
  const auto declared = fmt::format("{} = {:.0f}", fmt::join(f.dims, " x "), declared_bytes);
  if (header + count > file_size)
    throw Error(path, fmt::format("truncated: the header declares {} bytes after the {}-byte header, the file holds {}",
                                  declared, header, file_size - header));
  if (header + count < file_size)
    throw Error(path, fmt::format("{} bytes after the {}-byte header, but the header declares {}", file_size - header,
                                  header, declared));
  f.data = torch::empty(f.dims, torch::kUInt8);
  in.read(reinterpret_cast<char*>(f.data.data_ptr<std::uint8_t>()), static_cast<std::streamsize>(count));
  if (in.gcount() != count) throw Error(path, fmt::format("read {} of {} data bytes", in.gcount(), count));
  return f;
}

/// Both IDX datasets: the four files of one directory, the dynamic-MNIST split, labels 0..9.
class IdxImageDataset : public ImageDataset {
 public:
  static OptionSet declare(const std::string& default_directory, const std::string& what) {
    OptionSet set;
    set.add(Option::string("directory", default_directory)
                .help("folder with train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                      "t10k-labels-idx1-ubyte (" +
                      what + "); relative to data_root"));
    set.add(Option::integer("validation_size", 10000)
                .min(0)
                .help("last images of the training file held out as the validation split (0: none)"));
    ImageDataset::declare_binarisation(set, "dynamic");
    return set;
  }

  IdxImageDataset(const BuildContext& ctx, const std::string& label_name, const std::string& prepare)
      : ImageDataset(ctx.options) {
    const auto dir = std::filesystem::path(plugins::data_path(ctx, "directory"));
    const auto hint = "prepare it with scripts/prepare_data.sh " + prepare;
    auto [train_x, train_y] = load(dir, "train", hint);
    auto [test_x, test_y] = load(dir, "t10k", hint);
    if (train_x.sizes().slice(1) != test_x.sizes().slice(1))
      throw Error((dir / "t10k-images-idx3-ubyte").string(),
                  fmt::format("images are {} x {}, the training images {} x {}", test_x.size(1), test_x.size(2),
                              train_x.size(1), train_x.size(2)));
    const auto n = train_x.size(0), validation = ctx.options.integer("validation_size");
    if (validation >= n)
      throw Error(ctx.options.path() + "/validation_size",
                  fmt::format("must leave training images: {} requested, the training file holds {}", validation, n));
    info_.shape = {1, train_x.size(1), train_x.size(2)};
    info_.label_name = label_name;
    // [N, rows, cols] -> [N, 1, rows, cols]; slices of one tensor share its storage.
    train_x = train_x.unsqueeze(1);
    set_images(Split::Train, train_x.slice(0, 0, n - validation), train_y.slice(0, 0, n - validation), kGreyLevel);
    if (validation > 0)
      set_images(Split::Validation, train_x.slice(0, n - validation), train_y.slice(0, n - validation), kGreyLevel);
    set_images(Split::Test, test_x.unsqueeze(1), test_y, kGreyLevel);
  }

 private:
  /// `prefix`-images-idx3-ubyte and `prefix`-labels-idx1-ubyte: images [N, rows, cols] uint8,
  /// labels [N] long in 0..9.
  static std::pair<torch::Tensor, torch::Tensor> load(const std::filesystem::path& dir, const std::string& prefix,
                                                      const std::string& hint) {
    const auto image_path = (dir / (prefix + "-images-idx3-ubyte")).string();
    const auto label_path = (dir / (prefix + "-labels-idx1-ubyte")).string();
    auto images = read_idx(image_path, 3, hint);
    auto labels = read_idx(label_path, 1, hint);
    if (images.dims[0] != labels.dims[0])
      throw Error(label_path, fmt::format("{} labels, but {} holds {} images", labels.dims[0],
                                          std::filesystem::path(image_path).filename().string(), images.dims[0]));
    if (images.dims[0] == 0) throw Error(image_path, "holds no images");
    const auto top = labels.data.max().item<std::int64_t>();
    if (top > 9) {
      const auto at = labels.data.argmax().item<std::int64_t>();
      throw Error(label_path + ", byte " + std::to_string(8 + at),
                  fmt::format("expected a class label 0..9, found {} (label {})", top, at));
    }
    return {images.data, labels.data.to(torch::kLong)};
  }
};

class MnistDataset : public IdxImageDataset {
 public:
  static OptionSet options() { return declare("mnist", "scripts/prepare_data.sh mnist writes them"); }
  explicit MnistDataset(const BuildContext& ctx) : IdxImageDataset(ctx, "digit", "mnist") {}
};

class FashionMnistDataset : public IdxImageDataset {
 public:
  static OptionSet options() { return declare("fashion_mnist", "scripts/prepare_data.sh fashion_mnist writes them"); }
  explicit FashionMnistDataset(const BuildContext& ctx) : IdxImageDataset(ctx, "class", "fashion_mnist") {}
};

}  // namespace

PRIORLAB_PLUGIN(Dataset, mnist, MnistDataset, "1.0.0",
                "MNIST from IDX files, 50k/10k/10k, dynamically binarised by default, label = digit")
PRIORLAB_PLUGIN(Dataset, fashion_mnist, FashionMnistDataset, "1.0.0",
                "Fashion-MNIST from IDX files, 50k/10k/10k, dynamically binarised by default, label = class")
