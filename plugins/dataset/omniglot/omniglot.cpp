// Dataset "omniglot": the 28x28 OMNIGLOT of Burda et al. (2016) from their `chardata.mat`, read
// with matio (DESIGN.md §5): `data` [784 x 24345] and `testdata` [784 x 8070], grey values in
// [0, 1], one image per column; the last validation_size training images are the validation
// split (1345 in the VampPrior code). Binarisation (dynamic by default) is the shared code of
// common.hpp, as for MNIST.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <matio.h>

#include <priorlab/sdk.hpp>

#include "../common.hpp"

namespace {

using namespace priorlab;
using priorlab::plugins::ImageDataset;

constexpr std::int64_t kSide = 28;

/// matio handles, closed on every path out (RAII).
struct MatFile {
  mat_t* p = nullptr;
  ~MatFile() {
    if (p) Mat_Close(p);
  }
};
struct MatVar {
  matvar_t* p = nullptr;
  ~MatVar() {
    if (p) Mat_VarFree(p);
  }
};

/// matio reports a truncated variable by returning zeros, not an error, so a version-5 file is
/// first walked element by element: after the 128-byte header, each top-level element is an
/// 8-byte tag (type, byte count) and its data (miMATRIX = 14 padded to 8 bytes, miCOMPRESSED =
/// 15 not padded), and the elements must end exactly at the end of the file. (Version 7.3
/// files are HDF5, whose library checks its own structure.)
void check_v5_structure(const std::string& path) {
  const auto file_size = static_cast<std::uint64_t>(std::filesystem::file_size(path));
  std::ifstream in(path, std::ios::binary);
  unsigned char b[128] = {};
  if (file_size < 128 || !in.read(reinterpret_cast<char*>(b), 128))
    throw Error(path, fmt::format("{} bytes, too short for a MAT-file header (128)", file_size));
  const bool little = b[126] == 'I' && b[127] == 'M';
  if (!little && !(b[126] == 'M' && b[127] == 'I')) return;  // not version 5: left to matio
  const auto u32 = [little](const unsigned char* p) {
    return little
               ? std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24
               : std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | std::uint32_t{p[3]};
  };
  const std::uint32_t version = little ? (b[124] | b[125] << 8) : (b[124] << 8 | b[125]);
  if (version != 0x0100) return;  // 0x0200: version 7.3 (HDF5)
  std::uint64_t pos = 128;
  while (pos < file_size) {
    unsigned char tag[8] = {};
    if (pos + 8 > file_size || !in.seekg(static_cast<std::streamoff>(pos)) || !in.read(reinterpret_cast<char*>(tag), 8))
      throw Error(fmt::format("{}, byte {}", path, pos),
                  fmt::format("truncated: {} bytes left where an 8-byte element tag was expected", file_size - pos));
    const std::uint32_t type = u32(tag), size = u32(tag + 4);
    if (pos + 8 + size > file_size)
      throw Error(fmt::format("{}, byte {}", path, pos),
                  fmt::format("truncated: the element here declares {} bytes, the file holds {} after its tag", size,
                              file_size - pos - 8));
    std::uint64_t next = pos + 8 + size;
    if (type != 15) next = (next + 7) / 8 * 8;  // miMATRIX data are padded to 8 bytes; compressed data are not
    pos = std::min(next, file_size);
  }
}

/// The names of the variables in the file, for messages.
std::string variable_names(mat_t* mat) {
  std::vector<std::string> names;
  Mat_Rewind(mat);
  while (true) {
    MatVar v{Mat_VarReadNextInfo(mat)};
    if (!v.p) break;
    names.emplace_back(v.p->name ? v.p->name : "?");
  }
  return names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "));
}

/// Variable `name` as a real 2-D matrix [rows x cols], returned transposed as [cols, rows]
/// double: MATLAB stores column-major, so element (r, c) sits at data[r + rows c] and row c of
/// the result is column c of the matrix. Undefined when the variable is absent and !required.
/// The header is checked before any data are read: rank, class, `rows` (when >= 0), and a size
/// that the file can hold (at least 4 bytes a value; deflate expands at most 1032-fold), so a
/// corrupt size does not become a huge allocation.
torch::Tensor read_matrix(mat_t* mat, const std::string& path, const std::string& name, std::int64_t rows_expected,
                          bool required) {
  const auto where = fmt::format("{}: variable '{}'", path, name);
  {
    MatVar info{Mat_VarReadInfo(mat, name.c_str())};
    if (!info.p) {
      if (!required) return {};
      throw Error(path, fmt::format("no variable '{}' (the file holds: {})", name, variable_names(mat)));
    }
    if (info.p->rank != 2) throw Error(where, fmt::format("expected a 2-D matrix, found {} dimensions", info.p->rank));
    if (info.p->isComplex || (info.p->class_type != MAT_C_DOUBLE && info.p->class_type != MAT_C_SINGLE))
      throw Error(where, fmt::format("expected a real double or single matrix, found matio class {}{}",
                                     static_cast<int>(info.p->class_type), info.p->isComplex ? " (complex)" : ""));
    const auto rows = static_cast<double>(info.p->dims[0]), cols = static_cast<double>(info.p->dims[1]);
    if (rows_expected >= 0 && info.p->dims[0] != static_cast<size_t>(rows_expected))
      throw Error(where, fmt::format("expected {} rows, found a {} x {} matrix", rows_expected, rows, cols));
    const double expansion = info.p->compression == MAT_COMPRESSION_NONE ? 1.0 : 1032.0;
    if (rows * cols * 4 > expansion * static_cast<double>(std::filesystem::file_size(path)))
      throw Error(where, fmt::format("declares {} x {} values, more than the file can hold (corrupt?)", rows, cols));
  }
  MatVar v{Mat_VarRead(mat, name.c_str())};
  if (!v.p) throw Error(where, "matio could not read its data");
  const auto rows = static_cast<std::int64_t>(v.p->dims[0]), cols = static_cast<std::int64_t>(v.p->dims[1]);
  if (rows * cols == 0) return torch::zeros({cols, rows}, torch::kDouble);
  if (!v.p->data) throw Error(where, "matio read no data");
  const auto type = v.p->class_type == MAT_C_DOUBLE ? torch::kDouble : torch::kFloat;
  if (v.p->data_size != (type == torch::kDouble ? 8 : 4))
    throw Error(where, fmt::format("matio returned {}-byte elements", v.p->data_size));
  // copy = true: for double data to() would otherwise return the same tensor, whose memory
  // matio frees when `v` goes.
  return torch::from_blob(v.p->data, {cols, rows}, type).to(torch::kDouble, /*non_blocking=*/false, /*copy=*/true);
}

class OmniglotDataset : public ImageDataset {
 public:
  static OptionSet options() {
    OptionSet set;
    set.add(
        Option::string("file", "omniglot/chardata.mat")
            .help("Burda et al.'s chardata.mat (variables data, testdata; target, testtarget optional); relative to "
                  "data_root"));
    set.add(Option::integer("validation_size", 1345)
                .min(0)
                .help("last images of `data` held out as the validation split (0: none)"));
    ImageDataset::declare_binarisation(set, "dynamic");
    return set;
  }

  explicit OmniglotDataset(const BuildContext& ctx) : ImageDataset(ctx.options) {
    const auto path = plugins::data_path(ctx, "file");
    if (!std::filesystem::is_regular_file(path))
      throw Error(path,
                  "no such file; chardata.mat comes from Burda et al.'s IWAE repository (see "
                  "plugins/dataset/omniglot/README.md)");
    check_v5_structure(path);
    MatFile mat{Mat_Open(path.c_str(), MAT_ACC_RDONLY)};
    if (!mat.p) throw Error(path, "not a MAT-file matio can open (expected MATLAB version 4, 5 or 7.3)");
    auto train = images(read_matrix(mat.p, path, "data", kSide * kSide, true), path, "data");
    auto test = images(read_matrix(mat.p, path, "testdata", kSide * kSide, true), path, "testdata");
    auto train_y = alphabets(read_matrix(mat.p, path, "target", -1, false), train.size(0), path, "target");
    auto test_y = alphabets(read_matrix(mat.p, path, "testtarget", -1, false), test.size(0), path, "testtarget");
    if (train_y.defined() != test_y.defined())
      throw Error(
          path, fmt::format("has '{}' but not '{}': give alphabet labels for both splits or neither",
                            train_y.defined() ? "target" : "testtarget", train_y.defined() ? "testtarget" : "target"));
    const auto n = train.size(0), validation = ctx.options.integer("validation_size");
    if (validation >= n)
      throw Error(ctx.options.path() + "/validation_size",
                  fmt::format("must leave training images: {} requested, 'data' holds {}", validation, n));
    info_.shape = {1, kSide, kSide};
    info_.label_name = train_y.defined() ? "alphabet" : "";
    const auto part = [](const torch::Tensor& t, std::int64_t a, std::int64_t b) {
      return t.defined() ? t.slice(0, a, b) : t;
    };
    set_images(Split::Train, train.slice(0, 0, n - validation), part(train_y, 0, n - validation), 1.0F);
    if (validation > 0)
      set_images(Split::Validation, train.slice(0, n - validation), part(train_y, n - validation, n), 1.0F);
    set_images(Split::Test, test, test_y, 1.0F);
  }

 private:
  /// [N, 784] columns of the file -> [N, 1, 28, 28] float. Each column is a 28x28 image in
  /// column-major (Fortran) order, pixel (i, j) at index i + 28 j: viewing the column as
  /// [28, 28] row-major gives [j][i], so the image is its transpose.
  static torch::Tensor images(const torch::Tensor& columns, const std::string& path, const std::string& name) {
    const auto where = fmt::format("{}: variable '{}'", path, name);
    if (columns.size(0) == 0) throw Error(where, "holds no images");
    const auto bad = (columns < 0) | (columns > 1) | columns.isnan();
    if (bad.any().item<bool>()) {
      const auto at = bad.flatten().nonzero()[0].item<std::int64_t>();
      throw Error(
          where, fmt::format("expected grey values in [0, 1], found {} (row {}, column {})",
                             columns.flatten()[at].item<double>(), at % columns.size(1) + 1, at / columns.size(1) + 1));
    }
    return columns.to(torch::kFloat).view({-1, kSide, kSide}).transpose(1, 2).unsqueeze(1).contiguous();
  }

  /// One-hot alphabet columns [N, A] -> labels [N] long (the row of the 1, from 0); undefined
  /// when the variable is absent.
  static torch::Tensor alphabets(const torch::Tensor& onehot, std::int64_t n, const std::string& path,
                                 const std::string& name) {
    if (!onehot.defined()) return {};
    const auto where = fmt::format("{}: variable '{}'", path, name);
    if (onehot.size(0) != n) throw Error(where, fmt::format("{} columns, but the images have {}", onehot.size(0), n));
    const auto ones = (onehot == 1).sum(1), zeros = (onehot == 0).sum(1);
    const auto bad = (ones != 1) | (ones + zeros != onehot.size(1));
    if (bad.any().item<bool>())
      throw Error(where, fmt::format("column {} is not one-hot (a single 1 among 0s)",
                                     bad.nonzero()[0].item<std::int64_t>() + 1));
    return onehot.argmax(1);
  }
};

}  // namespace

PRIORLAB_PLUGIN(Dataset, omniglot, OmniglotDataset, "1.0.0",
                "OMNIGLOT 28x28 from chardata.mat (matio), 23000/1345/8070, dynamically binarised by default")
