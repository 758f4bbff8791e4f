// Datasets "mnist" and "fashion_mnist" on small IDX files written here: exact pixels, labels and
// splits; dynamic binarisation (determinism per draw_seed, mean = grey value); the fixed
// binarisation of validation and test; and a located Error for every malformed file.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.hpp"

using priorlab::BuildContext;
using priorlab::Dataset;
using priorlab::Split;
using priorlab::test::json;
using priorlab::test::TempDir;

namespace {

/// Big-endian IDX of unsigned bytes: 00 00 08 rank, sizes, data.
std::string idx_bytes(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
  std::string s = {0, 0, 8, static_cast<char>(dims.size())};
  for (auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((d >> shift) & 0xff));
  s.append(data.begin(), data.end());
  return s;
}

void write(const std::filesystem::path& p, const std::string& bytes) { priorlab::test::write_text(p, bytes); }

/// Image i of a set, pixel j of rows x cols: (7 i + 3 j) mod 256, so every image differs and
/// rows/columns are distinguishable; label i mod 10.
std::vector<std::uint8_t> pixels(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::uint32_t offset) {
  std::vector<std::uint8_t> v;
  for (std::uint32_t i = 0; i < n; ++i)
    for (std::uint32_t j = 0; j < rows * cols; ++j)
      v.push_back(static_cast<std::uint8_t>((7 * (i + offset) + 3 * j) % 256));
  return v;
}
std::vector<std::uint8_t> labels(std::uint32_t n, std::uint32_t offset) {
  std::vector<std::uint8_t> v;
  for (std::uint32_t i = 0; i < n; ++i) v.push_back(static_cast<std::uint8_t>((i + offset) % 10));
  return v;
}

/// A directory with 12 training and 5 test images of 4 x 3 pixels (non-square, so a swapped
/// row/column order would show). Test images continue the numbering at offset 100.
void write_set(const std::filesystem::path& dir, std::uint32_t train = 12, std::uint32_t test = 5) {
  write(dir / "train-images-idx3-ubyte", idx_bytes({train, 4, 3}, pixels(train, 4, 3, 0)));
  write(dir / "train-labels-idx1-ubyte", idx_bytes({train}, labels(train, 0)));
  write(dir / "t10k-images-idx3-ubyte", idx_bytes({test, 4, 3}, pixels(test, 4, 3, 100)));
  write(dir / "t10k-labels-idx1-ubyte", idx_bytes({test}, labels(test, 100)));
}

std::shared_ptr<Dataset> make(const std::string& dir, json options = json::object(),
                              const std::string& name = "mnist") {
  options["directory"] = dir;
  return priorlab::test::make<Dataset>(name, options);
}

torch::Tensor all(const Dataset& d, Split s, std::uint64_t seed = 0) {
  return d.get(s, torch::arange(d.size(s), torch::kLong), seed).x;
}

/// The what() of the Error that building the dataset throws ("" if none).
std::string error_of(const std::string& dir, json options = json::object()) {
  try {
    make(dir, std::move(options));
  } catch (const priorlab::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Mnist, GreyModeReturnsTheExactPixelsLabelsAndSplits) {
  TempDir tmp;
  write_set(tmp.path());
  const auto d = make(tmp.str(), {{"binarise", "none"}, {"validation_size", 2}});
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{1, 4, 3}));
  EXPECT_EQ(d->info().label_name, "digit");
  EXPECT_FALSE(d->info().binary);
  EXPECT_EQ(d->size(Split::Train), 10);  // first 12 - 2
  EXPECT_EQ(d->size(Split::Validation), 2);
  EXPECT_EQ(d->size(Split::Test), 5);
  // Training image 3, row 2, column 1 is pixel j = 2 * 3 + 1 = 7: (7*3 + 3*7) mod 256 = 42.
  const auto b = d->get(Split::Train, torch::tensor({3}, torch::kLong), 0);
  EXPECT_EQ(b.x.sizes(), (std::vector<std::int64_t>{1, 1, 4, 3}));
  EXPECT_EQ(b.x.scalar_type(), torch::kFloat);
  EXPECT_FLOAT_EQ(b.x[0][0][2][1].item<float>(), 42.0F / 255.0F);
  EXPECT_EQ(b.label.scalar_type(), torch::kLong);
  EXPECT_EQ(b.label.item<std::int64_t>(), 3);
  // Validation index 1 is training-file image 11; pixel 0 = 77 / 255, label 1.
  const auto v = d->get(Split::Validation, torch::tensor({1}, torch::kLong), 0);
  EXPECT_FLOAT_EQ(v.x[0][0][0][0].item<float>(), 77.0F / 255.0F);
  EXPECT_EQ(v.label.item<std::int64_t>(), 1);
  // Test image 4 (offset 100): pixel (3, 2), j = 11: (7*104 + 33) mod 256 = 761 mod 256 = 249.
  const auto t = d->get(Split::Test, torch::tensor({4}, torch::kLong), 0);
  EXPECT_FLOAT_EQ(t.x[0][0][3][2].item<float>(), 249.0F / 255.0F);
  EXPECT_EQ(t.label.item<std::int64_t>(), 4);
  // The whole training split against the formula.
  const auto x = all(*d, Split::Train);
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 12; ++j)
      ASSERT_FLOAT_EQ(x[i][0][j / 3][j % 3].item<float>(), static_cast<float>((7 * i + 3 * j) % 256) / 255.0F);
}

TEST(Mnist, ValidationSizeZeroKeepsTheWholeTrainingFile) {
  TempDir tmp;
  write_set(tmp.path());
  const auto d = make(tmp.str(), {{"validation_size", 0}});
  EXPECT_EQ(d->size(Split::Train), 12);
  EXPECT_EQ(d->size(Split::Validation), 0);
}

TEST(Mnist, DirectoryIsRelativeToDataRoot) {
  TempDir tmp;
  write_set(tmp.path() / "mnist");
  write_set(tmp.path() / "fashion_mnist", 11, 3);
  BuildContext ctx;
  ctx.data_root = tmp.str();
  const auto m = priorlab::test::make<Dataset>("mnist", {{"validation_size", 1}}, ctx);
  EXPECT_EQ(m->size(Split::Train), 11);
  const auto f = priorlab::test::make<Dataset>("fashion_mnist", {{"validation_size", 1}}, ctx);
  EXPECT_EQ(f->size(Split::Train), 10);
  EXPECT_EQ(f->size(Split::Test), 3);
  EXPECT_EQ(f->info().label_name, "class");
  EXPECT_TRUE(f->info().binary);  // dynamic binarisation by default
}

TEST(Mnist, DynamicTrainingDrawsArePureFunctionsOfTheDrawSeed) {
  TempDir tmp;
  write_set(tmp.path());
  const auto d = make(tmp.str(), {{"validation_size", 2}});
  EXPECT_TRUE(d->info().binary);
  const auto idx = torch::tensor({0, 5, 9, 5}, torch::kLong);
  const auto a = d->get(Split::Train, idx, 42).x, b = d->get(Split::Train, idx, 42).x,
             c = d->get(Split::Train, idx, 43).x;
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, c));  // 48 pixels of mostly intermediate grey: equal draws have probability < 1e-9
  EXPECT_TRUE(torch::equal(a, a.round())) << "values are 0 or 1";
  EXPECT_EQ(a.min().item<float>(), 0.0F);
  EXPECT_EQ(a.max().item<float>(), 1.0F);
  // A second dataset object draws the same batch: nothing but (split, indices, draw_seed) matters.
  EXPECT_TRUE(torch::equal(make(tmp.str(), {{"validation_size", 2}})->get(Split::Train, idx, 42).x, a));
}

TEST(Mnist, DynamicBinarisationHasTheGreyValueAsMean) {
  TempDir tmp;
  write_set(tmp.path());
  const auto d = make(tmp.str(), {{"validation_size", 2}});
  const auto grey = make(tmp.str(), {{"validation_size", 2}, {"binarise", "none"}});
  // Image 1 drawn 4000 times in one batch: each pixel's mean estimates p = k/255 with standard
  // error sqrt(p (1 - p) / 4000) <= 0.0079; 0.04 is 5 standard errors.
  const auto idx = torch::full({4000}, 1, torch::kLong);
  const auto mean = d->get(Split::Train, idx, 7).x.mean(0);
  const auto p = grey->get(Split::Train, torch::tensor({1}, torch::kLong), 0).x[0];
  EXPECT_LT((mean - p).abs().max().item<float>(), 0.04F);
  // Image 0 has pixel (0, 0) at level 0 (never 1); the rows of a batch are independent draws,
  // so 500 copies of one image are not all alike.
  const auto zero = d->get(Split::Train, torch::full({500}, 0, torch::kLong), 1).x;
  EXPECT_EQ(zero.select(3, 0).select(2, 0).sum().item<float>(), 0.0F);
  EXPECT_GT(zero.std(0).sum().item<float>(), 0.0F);
}

TEST(Mnist, ValidationAndTestAreBinarisedOnceWithTheFixedSeed) {
  TempDir tmp;
  // 200 test images; level (7 i + 3 j) mod 256 spread over [0, 255], mean grey ~ 0.5.
  write_set(tmp.path(), 12, 200);
  const auto d = make(tmp.str(), {{"validation_size", 2}, {"binarise_seed", 5}});
  const auto grey = make(tmp.str(), {{"validation_size", 2}, {"binarise", "none"}});
  const auto t1 = all(*d, Split::Test, 1), t2 = all(*d, Split::Test, 999);
  EXPECT_TRUE(torch::equal(t1, t2)) << "the draw seed does not change the test split";
  EXPECT_TRUE(torch::equal(all(*d, Split::Validation, 1), all(*d, Split::Validation, 2)));
  EXPECT_TRUE(torch::equal(t1, t1.round()));
  // Built again with the same seed: the same binarisation; with another seed: a different one.
  EXPECT_TRUE(torch::equal(all(*make(tmp.str(), {{"validation_size", 2}, {"binarise_seed", 5}}), Split::Test), t1));
  EXPECT_FALSE(torch::equal(all(*make(tmp.str(), {{"validation_size", 2}, {"binarise_seed", 6}}), Split::Test), t1));
  // 2400 pixels: the mean of x - p has standard error <= sqrt(0.25 / 2400) = 0.0102; 0.05 is
  // about 5 of them.
  const auto p = all(*grey, Split::Test);
  EXPECT_LT((t1.mean() - p.mean()).abs().item<float>(), 0.05F);
  // Level 0 stays 0 and level 255 stays 1 (P = 0 and 1 exactly).
  EXPECT_EQ(t1.masked_select(p == 0).sum().item<float>(), 0.0F);
  const auto ones = p == 1.0F;
  ASSERT_GT(ones.sum().item<std::int64_t>(), 0);
  EXPECT_EQ(t1.masked_select(ones).min().item<float>(), 1.0F);
}

TEST(Mnist, FixedAndThresholdModesBinariseEverySplitOnce) {
  TempDir tmp;
  write_set(tmp.path());
  const auto fixed = make(tmp.str(), {{"validation_size", 2}, {"binarise", "fixed"}});
  EXPECT_TRUE(torch::equal(all(*fixed, Split::Train, 1), all(*fixed, Split::Train, 2)));
  const auto thr = make(tmp.str(), {{"validation_size", 2}, {"binarise", "threshold"}});
  const auto grey = make(tmp.str(), {{"validation_size", 2}, {"binarise", "none"}});
  // p > 0.5 exactly: level 128 (0.502) -> 1, level 127 (0.498) -> 0.
  EXPECT_TRUE(torch::equal(all(*thr, Split::Train), (all(*grey, Split::Train) > 0.5F).to(torch::kFloat)));
}

TEST(Mnist, ADrawOfAHundredTakesFarLessThanATrainingStep) {
  TempDir tmp;
  // 5000 images of 28 x 28: the draw cost does not depend on the split size.
  write(tmp.path() / "train-images-idx3-ubyte", idx_bytes({5000, 28, 28}, pixels(5000, 28, 28, 0)));
  write(tmp.path() / "train-labels-idx1-ubyte", idx_bytes({5000}, labels(5000, 0)));
  write(tmp.path() / "t10k-images-idx3-ubyte", idx_bytes({10, 28, 28}, pixels(10, 28, 28, 0)));
  write(tmp.path() / "t10k-labels-idx1-ubyte", idx_bytes({10}, labels(10, 0)));
  const auto d = make(tmp.str(), {{"validation_size", 1000}});
  const auto idx = torch::randperm(4000, torch::kLong).slice(0, 0, 100);
  // The fastest of 20 rounds of 10 draws: what the code costs, without the time the scheduler
  // gives to other processes on a loaded machine.
  double ms = 1e9;
  for (int round = 0; round < 20; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) d->get(Split::Train, idx, static_cast<std::uint64_t>(10 * round + i));
    ms = std::min(ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 10);
  }
  // About 0.2 ms (README); an MLP training step on a batch of 100 takes tens of milliseconds.
  EXPECT_LT(ms, 5.0) << ms << " ms per draw";
  std::printf("mnist: %.3f ms per draw of 100 dynamically binarised images (best of 20 rounds)\n", ms);
}

TEST(Mnist, MissingFileNamesItAndThePrepareCommand) {
  TempDir tmp;
  write_set(tmp.path());
  std::filesystem::remove(tmp.path() / "t10k-labels-idx1-ubyte");
  const auto what = error_of(tmp.str());
  EXPECT_NE(what.find("t10k-labels-idx1-ubyte: cannot open"), std::string::npos) << what;
  EXPECT_NE(what.find("scripts/prepare_data.sh mnist"), std::string::npos) << what;
}

TEST(Mnist, WrongMagicIsLocatedAtByteZero) {
  TempDir tmp;
  write_set(tmp.path());
  auto bytes = idx_bytes({12, 4, 3}, pixels(12, 4, 3, 0));
  bytes[2] = 0x0D;  // float data
  write(tmp.path() / "train-images-idx3-ubyte", bytes);
  auto what = error_of(tmp.str());
  EXPECT_NE(what.find("train-images-idx3-ubyte, byte 0: expected the IDX magic 00 00 08 03"), std::string::npos)
      << what;
  EXPECT_NE(what.find("found 00 00 0d 03"), std::string::npos) << what;
  // A gzip file is recognised as such.
  write(tmp.path() / "train-images-idx3-ubyte", std::string("\x1f\x8b\x08\x08", 4) + "rest of a gzip stream");
  what = error_of(tmp.str());
  EXPECT_NE(what.find("gunzip"), std::string::npos) << what;
  // Images file given where labels are expected: the rank differs.
  write(tmp.path() / "train-images-idx3-ubyte", idx_bytes({12, 4, 3}, pixels(12, 4, 3, 0)));
  write(tmp.path() / "train-labels-idx1-ubyte", idx_bytes({12, 4, 3}, pixels(12, 4, 3, 0)));
  what = error_of(tmp.str());
  EXPECT_NE(what.find("train-labels-idx1-ubyte, byte 0: expected the IDX magic 00 00 08 01"), std::string::npos)
      << what;
}

TEST(Mnist, TruncatedAndOverlongFilesSayWhatTheHeaderDeclares) {
  TempDir tmp;
  write_set(tmp.path());
  auto bytes = idx_bytes({12, 4, 3}, pixels(12, 4, 3, 0));
  write(tmp.path() / "train-images-idx3-ubyte", bytes.substr(0, bytes.size() - 5));
  auto what = error_of(tmp.str());
  EXPECT_NE(
      what.find("train-images-idx3-ubyte: truncated: the header declares 12 x 4 x 3 = 144 bytes after the 16-byte "
                "header, the file holds 139"),
      std::string::npos)
      << what;
  write(tmp.path() / "train-images-idx3-ubyte", bytes.substr(0, 10));
  what = error_of(tmp.str());
  EXPECT_NE(what.find("truncated header"), std::string::npos) << what;
  write(tmp.path() / "train-images-idx3-ubyte", bytes + "xy");
  what = error_of(tmp.str());
  EXPECT_NE(what.find("146 bytes after the 16-byte header, but the header declares 12 x 4 x 3 = 144"),
            std::string::npos)
      << what;
  // Sizes whose product overflows 64 bits are "truncated", not a crash.
  write(tmp.path() / "train-images-idx3-ubyte", idx_bytes({0xffffffffU, 0xffffffffU, 0xffffffffU}, {1, 2, 3}));
  what = error_of(tmp.str());
  EXPECT_NE(what.find("truncated"), std::string::npos) << what;
}

TEST(Mnist, LabelCountAndRangeAreChecked) {
  TempDir tmp;
  write_set(tmp.path());
  write(tmp.path() / "t10k-labels-idx1-ubyte", idx_bytes({4}, labels(4, 0)));
  auto what = error_of(tmp.str());
  EXPECT_NE(what.find("t10k-labels-idx1-ubyte: 4 labels, but t10k-images-idx3-ubyte holds 5 images"), std::string::npos)
      << what;
  write_set(tmp.path());
  auto bad = labels(12, 0);
  bad[6] = 23;
  write(tmp.path() / "train-labels-idx1-ubyte", idx_bytes({12}, bad));
  what = error_of(tmp.str());
  EXPECT_NE(what.find("train-labels-idx1-ubyte, byte 14: expected a class label 0..9, found 23 (label 6)"),
            std::string::npos)
      << what;
}

TEST(Mnist, ImageSizesMustAgreeAndValidationMustLeaveTrainingImages) {
  TempDir tmp;
  write_set(tmp.path());
  write(tmp.path() / "t10k-images-idx3-ubyte", idx_bytes({5, 3, 4}, pixels(5, 3, 4, 0)));
  auto what = error_of(tmp.str());
  EXPECT_NE(what.find("t10k-images-idx3-ubyte: images are 3 x 4, the training images 4 x 3"), std::string::npos)
      << what;
  write_set(tmp.path());
  what = error_of(tmp.str(), {{"validation_size", 12}});
  EXPECT_NE(what.find("/test/options/validation_size: must leave training images"), std::string::npos) << what;
}

TEST(Mnist, IndexOutOfRangeIsAnError) {
  TempDir tmp;
  write_set(tmp.path());
  const auto d = make(tmp.str(), {{"validation_size", 2}});
  EXPECT_THROW(d->get(Split::Validation, torch::tensor({2}, torch::kLong), 0), priorlab::Error);
}

// The files scripts/prepare_data.sh writes into <source>/data/ (skipped when not prepared).
namespace {

std::shared_ptr<Dataset> prepared(const std::string& name, json options = json::object()) {
  BuildContext ctx;
  ctx.data_root = std::string(PRIORLAB_SOURCE_DIR) + "/data";
  return priorlab::test::make<Dataset>(name, options, ctx);
}

std::vector<std::int64_t> histogram(const Dataset& d, Split s) {
  const auto labels = d.get(s, torch::arange(d.size(s), torch::kLong), 0).label;
  const auto counts = torch::bincount(labels, {}, 10);
  return {counts.data_ptr<std::int64_t>(), counts.data_ptr<std::int64_t>() + 10};
}

}  // namespace

TEST(Mnist, PreparedFilesGiveTheDynamicMnistSplitWithLeCunsLabelCounts) {
  if (!std::filesystem::exists(std::string(PRIORLAB_SOURCE_DIR) + "/data/mnist/train-images-idx3-ubyte"))
    GTEST_SKIP() << "data/mnist not prepared (scripts/prepare_data.sh mnist)";
  const auto d = prepared("mnist");
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{1, 28, 28}));
  EXPECT_EQ(d->size(Split::Train), 50000);
  EXPECT_EQ(d->size(Split::Validation), 10000);
  EXPECT_EQ(d->size(Split::Test), 10000);
  // LeCun's published counts: training file 5923, 6742, ..., test file 980, 1135, ...; the
  // validation split is the training file's last 10,000.
  const auto train = histogram(*d, Split::Train), validation = histogram(*d, Split::Validation);
  const std::vector<std::int64_t> file{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949};
  for (size_t k = 0; k < 10; ++k) EXPECT_EQ(train[k] + validation[k], file[k]) << "digit " << k;
  EXPECT_EQ(histogram(*d, Split::Test),
            (std::vector<std::int64_t>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  // The mean grey value of the 60,000 training images is the well-known 0.1307; a dynamically
  // binarised batch of 10,000 (7.8 million pixels) has that mean to within ~1e-3.
  const auto grey = prepared("mnist", {{"binarise", "none"}, {"validation_size", 0}});
  EXPECT_NEAR(all(*grey, Split::Train).mean().item<double>(), 0.1307, 1e-4);
  const auto batch = d->get(Split::Train, torch::arange(10000, torch::kLong), 5).x;
  const auto p = grey->get(Split::Train, torch::arange(10000, torch::kLong), 0).x;
  EXPECT_NEAR(batch.mean().item<double>(), p.mean().item<double>(), 2e-3);
  // Draw time of a training batch of 100 at random positions (printed for the README).
  const auto idx = torch::randperm(50000, torch::kLong).slice(0, 0, 100);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) d->get(Split::Train, idx, static_cast<std::uint64_t>(i));
  std::printf("mnist (prepared files): %.3f ms per draw of 100\n",
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / 1000);
}

TEST(Mnist, PreparedFashionMnistHasTheConvertersBalancedSplit) {
  if (!std::filesystem::exists(std::string(PRIORLAB_SOURCE_DIR) + "/data/fashion_mnist/train-images-idx3-ubyte"))
    GTEST_SKIP() << "data/fashion_mnist not prepared (scripts/prepare_data.sh fashion_mnist)";
  const auto d = prepared("fashion_mnist");
  EXPECT_EQ(d->size(Split::Train), 50000);
  EXPECT_EQ(d->size(Split::Validation), 10000);
  EXPECT_EQ(d->size(Split::Test), 10000);
  // scripts/fashion_mnist_to_idx.js: 6000 train / 1000 test per class, interleaved round-robin,
  // so the last 10,000 training images (validation) hold 1000 per class.
  EXPECT_EQ(histogram(*d, Split::Train), std::vector<std::int64_t>(10, 5000));
  EXPECT_EQ(histogram(*d, Split::Validation), std::vector<std::int64_t>(10, 1000));
  EXPECT_EQ(histogram(*d, Split::Test), std::vector<std::int64_t>(10, 1000));
  // Round-robin: label of training image k is k mod 10.
  const auto labels = d->get(Split::Train, torch::arange(20, torch::kLong), 0).label;
  EXPECT_TRUE(torch::equal(labels, torch::arange(20, torch::kLong) % 10));
}
