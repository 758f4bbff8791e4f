// Dataset "static_mnist" on small .amat files written here: exact values and splits, and an
// Error at path:line:column for every malformed line.
#include <string>

#include <gtest/gtest.h>

#include "test_util.hpp"

using priorlab::BuildContext;
using priorlab::Dataset;
using priorlab::Split;
using priorlab::test::json;
using priorlab::test::TempDir;
using priorlab::test::write_text;

namespace {

/// n lines of 6 values (shape [1, 2, 3]); value j of line i is 1 when (i + j) is divisible by 3.
std::string amat(int n, int first = 0) {
  std::string s;
  for (int i = first; i < first + n; ++i) {
    for (int j = 0; j < 6; ++j) s += std::string(j ? " " : "") + ((i + j) % 3 == 0 ? "1" : "0");
    s += "\n";
  }
  return s;
}

void write_set(const std::filesystem::path& dir) {
  write_text(dir / "binarized_mnist_train.amat", amat(5));
  write_text(dir / "binarized_mnist_valid.amat", amat(2, 5));
  write_text(dir / "binarized_mnist_test.amat", amat(3, 7));
}

std::shared_ptr<Dataset> make(const std::string& dir, json options = json::object()) {
  options["directory"] = dir;
  if (!options.contains("shape")) options["shape"] = {1, 2, 3};
  return priorlab::test::make<Dataset>("static_mnist", options);
}

std::string error_of(const std::string& dir) {
  try {
    make(dir);
  } catch (const priorlab::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(StaticMnist, ReadsTheThreeFilesAsSplitsWithExactValues) {
  TempDir tmp;
  write_set(tmp.path());
  const auto d = make(tmp.str());
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_TRUE(d->info().binary);
  EXPECT_EQ(d->info().label_name, "");
  EXPECT_EQ(d->size(Split::Train), 5);
  EXPECT_EQ(d->size(Split::Validation), 2);
  EXPECT_EQ(d->size(Split::Test), 3);
  for (auto [split, first] : {std::pair{Split::Train, 0}, std::pair{Split::Validation, 5}, std::pair{Split::Test, 7}}) {
    const auto b = d->get(split, torch::arange(d->size(split), torch::kLong), 123);
    EXPECT_FALSE(b.label.defined());
    EXPECT_EQ(b.x.scalar_type(), torch::kFloat);
    for (int i = 0; i < d->size(split); ++i)
      for (int j = 0; j < 6; ++j)  // value j sits at row j / 3, column j % 3
        ASSERT_EQ(b.x[i][0][j / 3][j % 3].item<float>(), (first + i + j) % 3 == 0 ? 1.0F : 0.0F) << i << " " << j;
  }
  // The draw seed changes nothing: the data are binary already.
  const auto idx = torch::tensor({4, 0}, torch::kLong);
  EXPECT_TRUE(torch::equal(d->get(Split::Train, idx, 1).x, d->get(Split::Train, idx, 2).x));
}

TEST(StaticMnist, ValidationCanJoinTheTrainSplit) {
  TempDir tmp;
  write_set(tmp.path());
  const auto d = make(tmp.str(), {{"validation_in_train", true}});
  EXPECT_EQ(d->size(Split::Train), 7);
  EXPECT_EQ(d->size(Split::Validation), 0);
  // Training example 6 is validation line 2 (i = 6): values 1 at j = 0, 3.
  const auto x = d->get(Split::Train, torch::tensor({6}, torch::kLong), 0).x.flatten();
  EXPECT_TRUE(torch::equal(x, torch::tensor({1.0F, 0.0F, 0.0F, 1.0F, 0.0F, 0.0F})));
}

TEST(StaticMnist, ToleratesTabsCarriageReturnsRealNotationAndTrailingBlankLines) {
  TempDir tmp;
  write_set(tmp.path());
  write_text(tmp.path() / "binarized_mnist_test.amat", "1.0\t0 0 1 0 0\r\n0 1 0 0 1e0 0  \r\n0 0 1 0 0 1\n\n\n");
  const auto d = make(tmp.str());
  ASSERT_EQ(d->size(Split::Test), 3);
  const auto x = d->get(Split::Test, torch::arange(3, torch::kLong), 0).x.reshape({3, 6});
  EXPECT_TRUE(torch::equal(x[1], torch::tensor({0.0F, 1.0F, 0.0F, 0.0F, 1.0F, 0.0F})));
}

TEST(StaticMnist, ANonBinaryValueIsLocatedByLineAndColumn) {
  TempDir tmp;
  write_set(tmp.path());
  write_text(tmp.path() / "binarized_mnist_valid.amat", "0 0 0 0 0 0\n0 1 0.5 0 0 0\n");
  const auto what = error_of(tmp.str());
  EXPECT_NE(what.find("binarized_mnist_valid.amat:2:5: expected 0 or 1, found '0.5'"), std::string::npos) << what;
  write_text(tmp.path() / "binarized_mnist_valid.amat", "0 0 0 0 0 0\n0 1 x 0 0 0\n");
  EXPECT_NE(error_of(tmp.str()).find("valid.amat:2:5: expected 0 or 1, found 'x'"), std::string::npos);
  write_text(tmp.path() / "binarized_mnist_valid.amat", "0 0 0 0 0 2\n");
  EXPECT_NE(error_of(tmp.str()).find("valid.amat:1:11: expected 0 or 1, found '2'"), std::string::npos);
}

TEST(StaticMnist, AWrongValueCountIsLocatedByLine) {
  TempDir tmp;
  write_set(tmp.path());
  // A truncated file: its last line ("0 0 1 0 0 1\n") stops after "0 0 1 0".
  const auto full = amat(5);
  write_text(tmp.path() / "binarized_mnist_train.amat", full.substr(0, full.size() - 5));
  auto what = error_of(tmp.str());
  EXPECT_NE(what.find("binarized_mnist_train.amat:5: expected 6 values, found 4"), std::string::npos) << what;
  write_text(tmp.path() / "binarized_mnist_train.amat", "0 0 0 0 0 0 1\n");
  what = error_of(tmp.str());
  EXPECT_NE(what.find("train.amat:1:13: expected 6 values per line, found more"), std::string::npos) << what;
  write_text(tmp.path() / "binarized_mnist_train.amat", "0 0 0 0 0 0\n\n0 0 0 0 0 0\n");
  what = error_of(tmp.str());
  EXPECT_NE(what.find("train.amat:2: expected 6 values, found a blank line"), std::string::npos) << what;
}

TEST(StaticMnist, MissingAndEmptyFilesAreErrors) {
  TempDir tmp;
  write_set(tmp.path());
  write_text(tmp.path() / "binarized_mnist_test.amat", "\n");
  EXPECT_NE(error_of(tmp.str()).find("binarized_mnist_test.amat: holds no examples"), std::string::npos);
  std::filesystem::remove(tmp.path() / "binarized_mnist_test.amat");
  const auto what = error_of(tmp.str());
  EXPECT_NE(what.find("binarized_mnist_test.amat: cannot open"), std::string::npos) << what;
}

TEST(StaticMnist, DefaultShapeIs28By28BelowDataRoot) {
  TempDir tmp;
  std::string line;
  for (int j = 0; j < 784; ++j) line += (j ? " " : "") + std::to_string(j % 2);
  for (auto f : {"train", "valid", "test"})
    write_text(tmp.path() / "static_mnist" / (std::string("binarized_mnist_") + f + ".amat"),
               line + "\n" + line + "\n");
  BuildContext ctx;
  ctx.data_root = tmp.str();
  const auto d = priorlab::test::make<Dataset>("static_mnist", json::object(), ctx);
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{1, 28, 28}));
  EXPECT_EQ(d->size(Split::Test), 2);
  // Value 29 (odd) is row 1, column 1.
  EXPECT_EQ(d->get(Split::Test, torch::tensor({1}, torch::kLong), 0).x[0][0][1][1].item<float>(), 1.0F);
}

TEST(StaticMnist, SmokeConfigRunsOnFilesWrittenHere) {
  TempDir tmp;
  std::string lines;
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 784; ++j) lines += std::string(j ? " " : "") + ((i + j) % 5 == 0 ? "1" : "0");
    lines += "\n";
  }
  for (auto f : {"train", "valid", "test"})
    write_text(tmp.path() / "static_mnist" / (std::string("binarized_mnist_") + f + ".amat"), lines);
  const auto r =
      priorlab::test::run_cli("run '" PRIORLAB_SOURCE_DIR "/configs/datasets/static_mnist.json' --out '" + tmp.str() +
                              "/runs' --set data_root='" + tmp.str() +
                              "' --set training.iterations=3 --set training.batch_size=8 --set 'evaluators=[]'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "runs" / "static_mnist_smoke" / "summary.json")) << r.output;
}
