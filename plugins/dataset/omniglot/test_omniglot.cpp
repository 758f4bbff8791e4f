// Dataset "omniglot" on small chardata.mat files written here with matio (version 5, plain
// and compressed): the Fortran-order image layout, alphabet labels, splits, binarisation, and a
// located Error (never a crash) for missing, truncated and corrupt files.
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <matio.h>

#include "test_util.hpp"

using priorlab::BuildContext;
using priorlab::Dataset;
using priorlab::Split;
using priorlab::test::json;
using priorlab::test::TempDir;

namespace {

struct Matrix {
  std::string name;
  size_t rows, cols;
  std::vector<double> data;  // column-major, as MATLAB stores it
};

void write_mat(const std::filesystem::path& p, const std::vector<Matrix>& vars, bool compress = false) {
  mat_t* mat = Mat_CreateVer(p.c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(mat, nullptr);
  for (const auto& m : vars) {
    size_t dims[2] = {m.rows, m.cols};
    matvar_t* v = Mat_VarCreate(m.name.c_str(), MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, const_cast<double*>(m.data.data()),
                                MAT_F_DONT_COPY_DATA);
    ASSERT_NE(v, nullptr);
    ASSERT_EQ(Mat_VarWrite(mat, v, compress ? MAT_COMPRESSION_ZLIB : MAT_COMPRESSION_NONE), 0);
    Mat_VarFree(v);
  }
  Mat_Close(mat);
}

/// 784 x n images: value r of column c is ((r + 7 (c + offset)) mod 101) / 100.
Matrix images(const std::string& name, size_t n, size_t offset) {
  Matrix m{name, 784, n, {}};
  for (size_t c = 0; c < n; ++c)
    for (size_t r = 0; r < 784; ++r) m.data.push_back(static_cast<double>((r + 7 * (c + offset)) % 101) / 100.0);
  return m;
}

/// One-hot alphabets, A rows x n columns: column c has its 1 in row (c + offset) mod A.
Matrix onehot(const std::string& name, size_t alphabets, size_t n, size_t offset) {
  Matrix m{name, alphabets, n, std::vector<double>(alphabets * n, 0.0)};
  for (size_t c = 0; c < n; ++c) m.data[c * alphabets + (c + offset) % alphabets] = 1.0;
  return m;
}

std::vector<Matrix> chardata(size_t train = 5, size_t test = 3, bool targets = true) {
  std::vector<Matrix> v{images("data", train, 0), images("testdata", test, 100)};
  if (targets) {
    v.push_back(onehot("target", 4, train, 0));
    v.push_back(onehot("testtarget", 4, test, 1));
  }
  return v;
}

std::shared_ptr<Dataset> make(const std::filesystem::path& file, json options = json::object()) {
  options["file"] = file.string();
  if (!options.contains("validation_size")) options["validation_size"] = 2;
  return priorlab::test::make<Dataset>("omniglot", options);
}

std::string error_of(const std::filesystem::path& file, json options = json::object()) {
  try {
    make(file, std::move(options));
  } catch (const priorlab::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Omniglot, ColumnsAreFortranOrderImagesWithAlphabetLabels) {
  TempDir tmp;
  for (bool compress : {false, true}) {
    const auto file = tmp.path() / (compress ? "z.mat" : "chardata.mat");
    write_mat(file, chardata(), compress);
    const auto d = make(file, {{"binarise", "none"}});
    EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{1, 28, 28}));
    EXPECT_EQ(d->info().label_name, "alphabet");
    EXPECT_FALSE(d->info().binary);
    EXPECT_EQ(d->size(Split::Train), 3);
    EXPECT_EQ(d->size(Split::Validation), 2);
    EXPECT_EQ(d->size(Split::Test), 3);
    // Pixel (i, j) of image c is entry r = i + 28 j of column c (Fortran order). Image 1, pixel
    // (2, 5): r = 142, value ((142 + 7) mod 101) / 100 = 0.48.
    const auto b = d->get(Split::Train, torch::tensor({1}, torch::kLong), 0);
    EXPECT_FLOAT_EQ(b.x[0][0][2][5].item<float>(), 0.48F);
    EXPECT_EQ(b.label.item<std::int64_t>(), 1);
    // Every pixel of the test split (offset 100), and its labels ((c + 1) mod 4).
    const auto t = d->get(Split::Test, torch::arange(3, torch::kLong), 0);
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(t.label[c].item<std::int64_t>(), (c + 1) % 4);
      for (int r = 0; r < 784; ++r)
        ASSERT_FLOAT_EQ(t.x[c][0][r % 28][r / 28].item<float>(),
                        static_cast<float>(((r + 7 * (c + 100)) % 101) / 100.0));
    }
    // Validation = the last two columns of `data` (c = 3, 4), in order.
    const auto v = d->get(Split::Validation, torch::arange(2, torch::kLong), 0);
    EXPECT_FLOAT_EQ(v.x[1][0][0][0].item<float>(), 0.28F);  // r = 0, c = 4: 28 / 100
    EXPECT_EQ(v.label[1].item<std::int64_t>(), 0);
  }
}

TEST(Omniglot, TargetsAreOptional) {
  TempDir tmp;
  write_mat(tmp.path() / "c.mat", chardata(5, 3, false));
  const auto d = make(tmp.path() / "c.mat");
  EXPECT_EQ(d->info().label_name, "");
  EXPECT_FALSE(d->get(Split::Test, torch::tensor({0}, torch::kLong), 0).label.defined());
}

TEST(Omniglot, DefaultFileIsBelowDataRoot) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "omniglot");
  write_mat(tmp.path() / "omniglot" / "chardata.mat", chardata(1400, 2));
  BuildContext ctx;
  ctx.data_root = tmp.str();
  const auto d = priorlab::test::make<Dataset>("omniglot", json::object(), ctx);
  EXPECT_EQ(d->size(Split::Train), 55);  // 1400 - 1345, the VampPrior validation size
  EXPECT_EQ(d->size(Split::Validation), 1345);
  EXPECT_TRUE(d->info().binary);
}

TEST(Omniglot, DynamicBinarisationIsDeterministicPerDrawSeedWithTheGreyMean) {
  TempDir tmp;
  // Every pixel 0.3 in `data`, 0.7 in `testdata`.
  std::vector<Matrix> v{{"data", 784, 5, std::vector<double>(784 * 5, 0.3)},
                        {"testdata", 784, 50, std::vector<double>(784 * 50, 0.7)}};
  write_mat(tmp.path() / "c.mat", v);
  const auto d = make(tmp.path() / "c.mat");
  const auto idx = torch::full({200}, 2, torch::kLong);
  const auto a = d->get(Split::Train, idx, 11).x;
  EXPECT_TRUE(torch::equal(a, d->get(Split::Train, idx, 11).x));
  EXPECT_FALSE(torch::equal(a, d->get(Split::Train, idx, 12).x));
  EXPECT_TRUE(torch::equal(a, a.round()));
  // 156,800 Bernoulli(0.3) values: standard error sqrt(0.21 / 156800) = 0.0012; tolerance 0.006.
  EXPECT_NEAR(a.mean().item<double>(), 0.3, 0.006);
  // The test split is drawn once: the same for every draw seed; 39,200 values of p = 0.7,
  // standard error 0.0023, tolerance 0.012.
  const auto t = d->get(Split::Test, torch::arange(50, torch::kLong), 1).x;
  EXPECT_TRUE(torch::equal(t, d->get(Split::Test, torch::arange(50, torch::kLong), 2).x));
  EXPECT_NEAR(t.mean().item<double>(), 0.7, 0.012);
}

TEST(Omniglot, MissingFileAndMissingVariablesAreNamed) {
  TempDir tmp;
  auto what = error_of(tmp.path() / "nope.mat");
  EXPECT_NE(what.find("nope.mat: no such file"), std::string::npos) << what;
  write_mat(tmp.path() / "c.mat", {images("data", 5, 0), onehot("target", 4, 5, 0)});
  what = error_of(tmp.path() / "c.mat");
  EXPECT_NE(what.find("c.mat: no variable 'testdata' (the file holds: data, target)"), std::string::npos) << what;
  auto only_target = chardata();
  only_target.pop_back();
  write_mat(tmp.path() / "c.mat", only_target);
  what = error_of(tmp.path() / "c.mat");
  EXPECT_NE(what.find("has 'target' but not 'testtarget'"), std::string::npos) << what;
}

TEST(Omniglot, WrongShapesValuesAndLabelsAreLocatedAtTheVariable) {
  TempDir tmp;
  const auto file = tmp.path() / "c.mat";
  auto v = chardata();
  v[1] = Matrix{"testdata", 783, 3, std::vector<double>(783 * 3, 0.5)};
  write_mat(file, v);
  auto what = error_of(file);
  EXPECT_NE(what.find("c.mat: variable 'testdata': expected 784 rows, found a 783 x 3 matrix"), std::string::npos)
      << what;
  v = chardata();
  v[0].data[784 * 2 + 10] = 255.0;  // column 3, row 11
  write_mat(file, v);
  what = error_of(file);
  EXPECT_NE(what.find("variable 'data': expected grey values in [0, 1], found 255 (row 11, column 3)"),
            std::string::npos)
      << what;
  v = chardata();
  v[3] = onehot("testtarget", 4, 2, 0);
  write_mat(file, v);
  what = error_of(file);
  EXPECT_NE(what.find("variable 'testtarget': 2 columns, but the images have 3"), std::string::npos) << what;
  v = chardata();
  v[2].data[4 * 3 + 2] = 1.0;  // column 4 gets a second 1
  write_mat(file, v);
  what = error_of(file);
  EXPECT_NE(what.find("variable 'target': column 4 is not one-hot"), std::string::npos) << what;
  write_mat(file, chardata());
  what = error_of(file, {{"validation_size", 5}});
  EXPECT_NE(what.find("/test/options/validation_size: must leave training images"), std::string::npos) << what;
}

TEST(Omniglot, TruncatedFilesAreErrorsNotZeros) {
  TempDir tmp;
  for (bool compress : {false, true}) {
    const auto file = tmp.path() / "c.mat";
    write_mat(file, chardata(), compress);
    const auto bytes = priorlab::test::read_text(file);
    for (size_t keep : {size_t{0}, size_t{100}, size_t{200}, bytes.size() / 2, bytes.size() - 1}) {
      priorlab::test::write_text(file, bytes.substr(0, keep));
      const auto what = error_of(file);
      EXPECT_NE(what.find("c.mat"), std::string::npos) << keep << ": " << what;
      if (keep >= 136) {
        EXPECT_NE(what.find("truncated"), std::string::npos) << keep << ": " << what;
      }
    }
  }
  priorlab::test::write_text(tmp.path() / "g.mat", std::string(300, 'x'));
  EXPECT_NE(error_of(tmp.path() / "g.mat").find("not a MAT-file"), std::string::npos);
}

TEST(Omniglot, CorruptBytesGiveDataOrAnErrorNeverACrash) {
  TempDir tmp;
  for (bool compress : {false, true}) {
    const auto file = tmp.path() / "c.mat";
    write_mat(file, chardata(), compress);
    const auto bytes = priorlab::test::read_text(file);
    std::mt19937 rng(compress ? 2 : 1);
    int errors = 0;
    for (int trial = 0; trial < 200; ++trial) {
      auto bad = bytes;
      for (int k = 0; k < 3; ++k) bad[rng() % bad.size()] = static_cast<char>(rng() % 256);
      priorlab::test::write_text(file, bad);
      try {
        make(file);
      } catch (const priorlab::Error& e) {
        ++errors;
        EXPECT_NE(std::string(e.what()).find("c.mat"), std::string::npos) << e.what();
      }
    }
    EXPECT_GT(errors, 0);
  }
}

TEST(Omniglot, SmokeConfigRunsOnAFileWrittenHere) {
  TempDir tmp;
  std::filesystem::create_directories(tmp.path() / "omniglot");
  write_mat(tmp.path() / "omniglot" / "chardata.mat", chardata(1400, 20));  // 55 train, 1345 validation
  const auto r = priorlab::test::run_cli(
      "run '" PRIORLAB_SOURCE_DIR "/configs/datasets/omniglot.json' --out '" + tmp.str() + "/runs' --set data_root='" +
      tmp.str() + "' --set training.iterations=3 --set training.batch_size=8 --set 'evaluators=[]'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "runs" / "omniglot_smoke" / "summary.json")) << r.output;
}
