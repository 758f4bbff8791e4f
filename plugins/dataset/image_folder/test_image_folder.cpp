// Dataset "image_folder" on small PNG files written here: exact grey values, the sorted and
// seeded split, grey conversion, resizing and cropping, and an Error naming the folder or file
// when it is empty, missing or unreadable.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "../common.hpp"
#include "test_util.hpp"

using priorlab::BuildContext;
using priorlab::Dataset;
using priorlab::Split;
using priorlab::test::json;
using priorlab::test::TempDir;

namespace {

void write_png(const std::filesystem::path& p, const cv::Mat& image) {
  std::filesystem::create_directories(p.parent_path());
  ASSERT_TRUE(cv::imwrite(p.string(), image));
}

/// n constant 8 x 8 images; image i (in name order) has grey level 20 i + 5. Written in
/// reverse order, so the directory order is unlikely to be the sorted one.
void write_constant_images(const std::filesystem::path& dir, int n) {
  for (int i = n - 1; i >= 0; --i)
    write_png(dir / ("img_" + std::to_string(100 + i) + ".png"), cv::Mat(8, 8, CV_8UC1, cv::Scalar(20 * i + 5)));
}

std::shared_ptr<Dataset> make(const std::filesystem::path& dir, json options = json::object()) {
  options["path"] = dir.string();
  return priorlab::test::make<Dataset>("image_folder", options);
}

std::string error_of(const std::filesystem::path& dir, json options = json::object()) {
  try {
    make(dir, std::move(options));
  } catch (const priorlab::Error& e) {
    return e.what();
  }
  return "";
}

torch::Tensor all(const Dataset& d, Split s) { return d.get(s, torch::arange(d.size(s), torch::kLong), 0).x; }

}  // namespace

TEST(ImageFolder, ImagesInSortedOrderPermutedBySeed) {
  TempDir tmp;
  write_constant_images(tmp.path(), 6);
  priorlab::test::write_text(tmp.path() / "notes.txt", "not an image, skipped");
  const auto d = make(tmp.path(), {{"image_size", 8}, {"test_fraction", 0.0}, {"seed", 3}});
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{1, 8, 8}));
  EXPECT_FALSE(d->info().binary);
  EXPECT_EQ(d->info().label_name, "");
  ASSERT_EQ(d->size(Split::Train), 6);
  EXPECT_EQ(d->size(Split::Test), 0);
  // Training example k is file perm[k] of the sorted list: the common.hpp permutation of seed 3.
  const auto perm = priorlab::plugins::permutation(6, 3);
  const auto x = all(*d, Split::Train);
  for (int k = 0; k < 6; ++k) {
    const float want = static_cast<float>(20 * perm[static_cast<size_t>(k)] + 5) / 255.0F;
    EXPECT_FLOAT_EQ(x[k].min().item<float>(), want) << k;
    EXPECT_FLOAT_EQ(x[k].max().item<float>(), want) << k;
  }
}

TEST(ImageFolder, SplitSizesAndSeeds) {
  TempDir tmp;
  write_constant_images(tmp.path(), 10);
  const auto d = make(tmp.path(), {{"image_size", 8}, {"test_fraction", 0.2}, {"validation_fraction", 0.1}});
  EXPECT_EQ(d->size(Split::Train), 7);
  EXPECT_EQ(d->size(Split::Validation), 1);
  EXPECT_EQ(d->size(Split::Test), 2);
  // Each image in exactly one split.
  std::set<float> seen;
  for (auto s : {Split::Train, Split::Validation, Split::Test}) {
    const auto x = all(*d, s);
    for (int k = 0; k < x.size(0); ++k) seen.insert(x[k][0][0][0].item<float>());
  }
  EXPECT_EQ(seen.size(), 10U);
  const auto again = make(tmp.path(), {{"image_size", 8}, {"test_fraction", 0.2}, {"validation_fraction", 0.1}});
  EXPECT_TRUE(torch::equal(all(*d, Split::Test), all(*again, Split::Test)));
  const auto other =
      make(tmp.path(), {{"image_size", 8}, {"test_fraction", 0.2}, {"validation_fraction", 0.1}, {"seed", 1}});
  EXPECT_FALSE(torch::equal(all(*d, Split::Test), all(*other, Split::Test)));
}

TEST(ImageFolder, ResizesByAreaAndCropsTheCentre) {
  TempDir tmp;
  // 16 x 16: left half 0, right half 200. Shrunk to 8 x 8 by area averaging: every 2 x 2 block
  // lies on one side, so columns 0-3 are 0 and 4-7 are 200 exactly.
  cv::Mat half(16, 16, CV_8UC1, cv::Scalar(0));
  half(cv::Rect(8, 0, 8, 16)).setTo(200);
  write_png(tmp.path() / "a" / "half.png", half);
  auto x = all(*make(tmp.path() / "a", {{"image_size", 8}, {"test_fraction", 0.0}}), Split::Train)[0][0];
  EXPECT_EQ(x.slice(1, 0, 4).max().item<float>(), 0.0F);
  EXPECT_FLOAT_EQ(x.slice(1, 4, 8).min().item<float>(), 200.0F / 255.0F);
  // 8 rows x 16 columns, columns 0-7 black, 8-15 at 200. The centred square is columns 4-11
  // (half black, half 200), shrunk to 4 x 4: columns 0-1 black, 2-3 at 200.
  cv::Mat wide(8, 16, CV_8UC1, cv::Scalar(0));
  wide(cv::Rect(8, 0, 8, 8)).setTo(200);
  write_png(tmp.path() / "b" / "wide.png", wide);
  x = all(*make(tmp.path() / "b", {{"image_size", 4}, {"test_fraction", 0.0}, {"crop", "centre"}}), Split::Train)[0][0];
  EXPECT_EQ(x.slice(1, 0, 2).max().item<float>(), 0.0F);
  EXPECT_FLOAT_EQ(x.slice(1, 2, 4).min().item<float>(), 200.0F / 255.0F);
  // Without cropping the whole width is squeezed: columns 0-1 black, 2-3 at 200 as well, but
  // from all 16 columns; enlarging a 2 x 2 image to 4 x 4 works too.
  write_png(tmp.path() / "c" / "tiny.png", cv::Mat(2, 2, CV_8UC1, cv::Scalar(90)));
  x = all(*make(tmp.path() / "c", {{"image_size", 4}, {"test_fraction", 0.0}}), Split::Train)[0][0];
  EXPECT_FLOAT_EQ(x.min().item<float>(), 90.0F / 255.0F);
  EXPECT_FLOAT_EQ(x.max().item<float>(), 90.0F / 255.0F);
}

TEST(ImageFolder, ColourImagesBecomeGrey) {
  TempDir tmp;
  // Pure red (OpenCV's BGR order): Y = 0.299 * 255 = 76.2 -> level 76 (OpenCV rounds its
  // fixed-point weights; allow one level).
  write_png(tmp.path() / "red.png", cv::Mat(8, 8, CV_8UC3, cv::Scalar(0, 0, 255)));
  const auto x = all(*make(tmp.path(), {{"image_size", 8}, {"test_fraction", 0.0}}), Split::Train);
  EXPECT_EQ(x.sizes(), (std::vector<std::int64_t>{1, 1, 8, 8}));
  EXPECT_NEAR(x.mean().item<float>() * 255.0F, 76.0F, 1.0F);
}

TEST(ImageFolder, SubFoldersOnlyWhenRecursiveAndBinarisationOnRequest) {
  TempDir tmp;
  write_constant_images(tmp.path(), 3);
  write_constant_images(tmp.path() / "sub", 2);
  EXPECT_EQ(make(tmp.path(), {{"image_size", 8}, {"test_fraction", 0.0}})->size(Split::Train), 3);
  const auto d =
      make(tmp.path(), {{"image_size", 8}, {"test_fraction", 0.0}, {"recursive", true}, {"binarise", "dynamic"}});
  EXPECT_EQ(d->size(Split::Train), 5);
  EXPECT_TRUE(d->info().binary);
  const auto idx = torch::arange(5, torch::kLong);
  const auto a = d->get(Split::Train, idx, 9).x;
  EXPECT_TRUE(torch::equal(a, a.round()));
  EXPECT_TRUE(torch::equal(a, d->get(Split::Train, idx, 9).x));
}

TEST(ImageFolder, EmptyMissingAndUnreadableAreLocatedErrors) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "empty");
  priorlab::test::write_text(tmp.path() / "empty" / "readme.md", "no images here");
  auto what = error_of(tmp.path() / "empty");
  EXPECT_NE(what.find("empty: no image files"), std::string::npos) << what;
  what = error_of(tmp.path() / "missing");
  EXPECT_NE(what.find("missing: no such folder"), std::string::npos) << what;
  write_constant_images(tmp.path() / "bad", 2);
  priorlab::test::write_text(tmp.path() / "bad" / "img_broken.png", "\x89PNG but nothing after");
  what = error_of(tmp.path() / "bad");
  EXPECT_NE(what.find("img_broken.png: not a readable image"), std::string::npos) << what;
  // A truncated PNG: a real one cut in half.
  write_png(tmp.path() / "cut" / "x.png", cv::Mat(32, 32, CV_8UC1, cv::Scalar(7)));
  std::vector<uchar> png;
  cv::imencode(".png", cv::Mat(32, 32, CV_8UC3, cv::Scalar(1, 2, 3)), png);
  priorlab::test::write_text(tmp.path() / "cut" / "y.png",
                             std::string(png.begin(), png.begin() + static_cast<long>(png.size() / 2)));
  what = error_of(tmp.path() / "cut");
  EXPECT_NE(what.find("y.png: not a readable image"), std::string::npos) << what;
}

TEST(ImageFolder, DefaultFolderIsBelowDataRoot) {
  TempDir tmp;
  write_constant_images(tmp.path() / "images", 10);
  BuildContext ctx;
  ctx.data_root = tmp.str();
  const auto d = priorlab::test::make<Dataset>("image_folder", json::object(), ctx);
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{1, 64, 64}));
  EXPECT_EQ(d->size(Split::Train), 9);
  EXPECT_EQ(d->size(Split::Test), 1);
}

TEST(ImageFolder, SmokeConfigRunsOnImagesWrittenHere) {
  TempDir tmp;
  write_constant_images(tmp.path() / "images", 20);
  const auto r =
      priorlab::test::run_cli("run '" PRIORLAB_SOURCE_DIR "/configs/datasets/image_folder.json' --out '" + tmp.str() +
                              "/runs' --set data_root='" + tmp.str() +
                              "' --set training.iterations=3 --set training.batch_size=8 --set 'evaluators=[]'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "runs" / "image_folder_smoke" / "summary.json")) << r.output;
}
