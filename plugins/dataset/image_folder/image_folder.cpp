// Dataset "image_folder": every image file of a folder (the paper's Faces and Chairs), read with
// OpenCV, converted to grey, resized to image_size x image_size (DESIGN.md §5): shape
// {1, S, S}, grey values in [0, 1] (or binarised by the shared code of common.hpp). Files are
// taken in sorted name order and split by a seeded permutation.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <priorlab/sdk.hpp>

#include "../common.hpp"

namespace {

using namespace priorlab;
using priorlab::plugins::ImageDataset;
namespace fs = std::filesystem;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class ImageFolderDataset : public ImageDataset {
 public:
  static OptionSet options() {
    OptionSet set;
    set.add(Option::string("path", "images").help("folder of images; relative to data_root"));
    set.add(
        Option::string_list("extensions", {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff", ".webp"})
            .help("file name endings read as images (case-insensitive); other files are skipped"));
    set.add(Option::boolean("recursive", false).help("also read the images of sub-folders"));
    set.add(Option::integer("image_size", 64).min(4).max(1024).help("side S of the square images served, pixels"));
    set.add(Option::string("crop", "none")
                .choices({"none", "centre"})
                .help("none: resize the whole image (changes the aspect ratio of non-square images); centre: cut the "
                      "largest centred square first"));
    set.add(Option::real("test_fraction", 0.1).min(0).max(0.9).help("share of the images held out as the test split"));
    set.add(Option::real("validation_fraction", 0.0).min(0).max(0.9).help("share held out as the validation split"));
    set.add(Option::integer("seed", 0).min(0).help("seed of the permutation that assigns images to splits"));
    ImageDataset::declare_binarisation(set, "none");
    return set;
  }

  explicit ImageFolderDataset(const BuildContext& ctx) : ImageDataset(ctx.options) {
    const auto& o = ctx.options;
    const auto folder = plugins::data_path(ctx, "path");
    const auto files = list(folder, o.string_list("extensions"), o.boolean("recursive"));
    if (files.empty())
      throw Error(folder, fmt::format("no image files (endings {}){}", fmt::join(o.string_list("extensions"), " "),
                                      o.boolean("recursive") ? "" : "; set recursive to read sub-folders"));
    const auto side = o.integer("image_size");
    const bool crop = o.string("crop") == "centre";
    const auto n = static_cast<std::int64_t>(files.size());
    // Compact: 8-bit grey levels, [N, 1, S, S].
    auto x = torch::empty({n, 1, side, side}, torch::kUInt8);
    for (std::int64_t i = 0; i < n; ++i) {
      const cv::Mat grey = load(files[static_cast<size_t>(i)], side, crop);
      std::memcpy(x[i].data_ptr<std::uint8_t>(), grey.data, static_cast<size_t>(side * side));
    }
    const auto sizes = plugins::FractionSplit::of(n, o.real("test_fraction"), o.real("validation_fraction"), o.path());
    const auto order =
        torch::tensor(plugins::permutation(n, static_cast<std::uint64_t>(o.integer("seed"))), torch::kLong);
    x = x.index_select(0, order);
    info_.shape = {1, side, side};
    info_.label_name = "";
    set_images(Split::Train, x.slice(0, 0, sizes.train), {}, kGreyLevel);
    if (sizes.validation > 0)
      set_images(Split::Validation, x.slice(0, sizes.train, sizes.train + sizes.validation), {}, kGreyLevel);
    if (sizes.test > 0) set_images(Split::Test, x.slice(0, sizes.train + sizes.validation), {}, kGreyLevel);
  }

 private:
  /// The image files below `folder`, sorted by path (byte order), so the data do not depend
  /// on the order the file system lists them in.
  static std::vector<std::string> list(const std::string& folder, const std::vector<std::string>& extensions,
                                       bool recursive) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) throw Error(folder, fs::exists(folder) ? "is not a folder" : "no such folder");
    std::set<std::string> endings;
    for (const auto& e : extensions) endings.insert(lower(e));
    std::vector<std::string> files;
    const auto take = [&](const fs::directory_entry& entry) {
      if (entry.is_regular_file() && endings.count(lower(entry.path().extension().string())))
        files.push_back(entry.path().string());
    };
    try {
      if (recursive)
        for (const auto& entry : fs::recursive_directory_iterator(folder)) take(entry);
      else
        for (const auto& entry : fs::directory_iterator(folder)) take(entry);
    } catch (const fs::filesystem_error& e) {
      throw Error(folder, fmt::format("cannot list: {}", e.code().message()));
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  /// One file as a side x side 8-bit grey image. IMREAD_GRAYSCALE converts colour with
  /// OpenCV's weights (Y = 0.299 R + 0.587 G + 0.114 B) and 16-bit images to 8 bits. Shrinking
  /// uses INTER_AREA (each output pixel the mean of the input area it covers: no aliasing),
  /// enlarging INTER_LINEAR (bilinear).
  static cv::Mat load(const std::string& file, std::int64_t side, bool crop) {
    cv::Mat image;
    try {
      image = cv::imread(file, cv::IMREAD_GRAYSCALE);
    } catch (const cv::Exception& e) {
      throw Error(file, fmt::format("not a readable image: {}", one_line(e.what())));
    }
    if (image.empty()) throw Error(file, "not a readable image (OpenCV could not decode it)");
    if (crop && image.rows != image.cols) {
      const int s = std::min(image.rows, image.cols);
      image = image(cv::Rect((image.cols - s) / 2, (image.rows - s) / 2, s, s));
    }
    cv::Mat out;
    const int target = static_cast<int>(side);
    if (image.rows == target && image.cols == target)
      out = image;
    else
      cv::resize(image, out, cv::Size(target, target), 0, 0,
                 image.rows >= target && image.cols >= target ? cv::INTER_AREA : cv::INTER_LINEAR);
    return out.isContinuous() ? out : out.clone();
  }
};

}  // namespace

PRIORLAB_PLUGIN(Dataset, image_folder, ImageFolderDataset, "1.0.0",
                "a folder of images (OpenCV), grey, resized to 64x64 by default, seeded test split")
