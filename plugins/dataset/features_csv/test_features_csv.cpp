// Dataset "features_csv" on small CSV files written here: values, header detection, label
// columns (numbers, integers, class names), fraction and file splits, standardisation with the
// training statistics, and an Error at path:line:column for every malformed row.
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

/// n rows "i, 10 i, 100 i + 0.5, label" with a header; label = "walk" / "run" alternating.
std::string csv(int n, bool header = true, bool labels = true) {
  std::string s = header ? (labels ? "a,b,c,motion\n" : "a,b,c\n") : "";
  for (int i = 0; i < n; ++i)
    s += std::to_string(i) + "," + std::to_string(10 * i) + "," + std::to_string(100 * i) + ".5" +
         (labels ? (i % 2 ? ",run" : ",walk") : "") + "\n";
  return s;
}

std::shared_ptr<Dataset> make(const std::filesystem::path& file, json options = json::object()) {
  options["path"] = file.string();
  return priorlab::test::make<Dataset>("features_csv", options);
}

std::string error_of(const std::filesystem::path& file, json options = json::object()) {
  try {
    make(file, std::move(options));
  } catch (const priorlab::Error& e) {
    return e.what();
  }
  return "";
}

torch::Tensor all(const Dataset& d, Split s) { return d.get(s, torch::arange(d.size(s), torch::kLong), 0).x; }

}  // namespace

TEST(FeaturesCsv, UnshuffledRowsSplitIntoTrainAndTheLastRowsAsTest) {
  TempDir tmp;
  write_text(tmp.path() / "f.csv", csv(10, true, false));
  const auto d = make(tmp.path() / "f.csv", {{"shuffle", false}, {"test_fraction", 0.2}});
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{3}));
  EXPECT_FALSE(d->info().binary);
  EXPECT_EQ(d->info().label_name, "");
  EXPECT_EQ(d->size(Split::Train), 8);
  EXPECT_EQ(d->size(Split::Test), 2);
  EXPECT_EQ(d->size(Split::Validation), 0);
  EXPECT_TRUE(torch::equal(all(*d, Split::Test), torch::tensor({{8.0F, 80.0F, 800.5F}, {9.0F, 90.0F, 900.5F}})));
  EXPECT_FALSE(d->get(Split::Train, torch::tensor({0}, torch::kLong), 0).label.defined());
}

TEST(FeaturesCsv, ShuffledSplitIsAPermutationFixedByTheSeed) {
  TempDir tmp;
  write_text(tmp.path() / "f.csv", csv(20, true, false));
  const auto a = make(tmp.path() / "f.csv", {{"test_fraction", 0.25}, {"validation_fraction", 0.25}, {"seed", 4}});
  EXPECT_EQ(a->size(Split::Train), 10);
  EXPECT_EQ(a->size(Split::Validation), 5);
  EXPECT_EQ(a->size(Split::Test), 5);
  // Together the three splits hold each row exactly once.
  auto first = torch::cat({all(*a, Split::Train), all(*a, Split::Validation), all(*a, Split::Test)}).select(1, 0);
  EXPECT_TRUE(torch::equal(std::get<0>(first.sort()), torch::arange(20, torch::kFloat)));
  EXPECT_FALSE(torch::equal(first, torch::arange(20, torch::kFloat)));
  const auto b = make(tmp.path() / "f.csv", {{"test_fraction", 0.25}, {"validation_fraction", 0.25}, {"seed", 4}});
  EXPECT_TRUE(torch::equal(all(*a, Split::Test), all(*b, Split::Test)));
  const auto c = make(tmp.path() / "f.csv", {{"test_fraction", 0.25}, {"validation_fraction", 0.25}, {"seed", 5}});
  EXPECT_FALSE(torch::equal(all(*a, Split::Test), all(*c, Split::Test)));
}

TEST(FeaturesCsv, LabelColumnByNameOrIndexWithClassNamesOrNumbers) {
  TempDir tmp;
  write_text(tmp.path() / "f.csv", csv(6));
  auto d = make(tmp.path() / "f.csv", {{"label_column", "motion"}, {"shuffle", false}, {"test_fraction", 0.0}});
  EXPECT_EQ(d->info().shape, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(d->info().label_name, "motion");
  auto b = d->get(Split::Train, torch::arange(6, torch::kLong), 0);
  // Class names in sorted order: run = 0, walk = 1; row i is walk when i is even.
  EXPECT_EQ(b.label.scalar_type(), torch::kLong);
  EXPECT_TRUE(torch::equal(b.label, torch::tensor({1, 0, 1, 0, 1, 0}, torch::kLong)));
  EXPECT_FLOAT_EQ(b.x[5][2].item<float>(), 500.5F);
  // By index, column 1 (b = 10 i) holds integers: long labels, the other columns are features.
  write_text(tmp.path() / "n.csv", csv(6, true, false));
  d = make(tmp.path() / "n.csv", {{"label_column", "1"}, {"shuffle", false}, {"test_fraction", 0.0}});
  b = d->get(Split::Train, torch::arange(6, torch::kLong), 0);
  EXPECT_EQ(d->info().label_name, "b");
  EXPECT_TRUE(torch::equal(b.label, torch::tensor({0, 10, 20, 30, 40, 50}, torch::kLong)));
  // Column 2 (c = 100 i + 0.5) holds reals: float labels. Without a header the label is "column 2".
  write_text(tmp.path() / "g.csv", csv(4, false, false));
  d = make(tmp.path() / "g.csv", {{"label_column", "2"}, {"shuffle", false}, {"test_fraction", 0.0}});
  b = d->get(Split::Train, torch::arange(4, torch::kLong), 0);
  EXPECT_EQ(d->info().label_name, "column 2");
  EXPECT_EQ(b.label.scalar_type(), torch::kFloat);
  EXPECT_FLOAT_EQ(b.label[3].item<float>(), 300.5F);
  EXPECT_TRUE(torch::equal(b.x.select(1, 1), torch::tensor({0.0F, 10.0F, 20.0F, 30.0F})));
}

TEST(FeaturesCsv, HeaderlessFilesWithClassNamesAreNotMistakenForAHeader) {
  TempDir tmp;
  write_text(tmp.path() / "f.csv", csv(4, false));
  const auto d = make(tmp.path() / "f.csv", {{"label_column", "3"}, {"shuffle", false}, {"test_fraction", 0.0}});
  EXPECT_EQ(d->size(Split::Train), 4);  // row 0 ("0,0,0.5,walk") is data
}

// Issue 16, case 6: a BOM before a header-less file turned its first row into the header
// (179 examples of 180). With and without a header, the BOM is dropped and nothing else.
TEST(FeaturesCsv, Case6_AUtf8BomBeforeTheFirstLineIsNotPartOfIt) {
  TempDir tmp;
  write_text(tmp.path() / "bare.csv", "\xEF\xBB\xBF" + csv(180, false, false));
  const auto bare = make(tmp.path() / "bare.csv", {{"shuffle", false}, {"test_fraction", 0.5}});
  EXPECT_EQ(bare->size(Split::Train) + bare->size(Split::Test), 180);
  EXPECT_TRUE(torch::equal(all(*bare, Split::Train)[0], torch::tensor({0.0F, 0.0F, 0.5F})));
  write_text(tmp.path() / "named.csv", "\xEF\xBB\xBF" + csv(10, true, false));
  const auto named = make(tmp.path() / "named.csv", {{"label_column", "a"}, {"test_fraction", 0.2}});
  EXPECT_EQ(named->size(Split::Train) + named->size(Split::Test), 10);  // "a" is found: the BOM left the name
}

TEST(FeaturesCsv, QuotesSemicolonsWhitespaceAndCrlf) {
  TempDir tmp;
  write_text(tmp.path() / "f.csv", "\"x, 1\";\"y \"\"2\"\"\";label\r\n 1.5 ; -2e1;\"a;b\"\r\n\r\n3;4;c\r\n");
  const auto d = make(tmp.path() / "f.csv",
                      {{"delimiter", ";"}, {"label_column", "label"}, {"shuffle", false}, {"test_fraction", 0.0}});
  EXPECT_TRUE(torch::equal(all(*d, Split::Train), torch::tensor({{1.5F, -20.0F}, {3.0F, 4.0F}})));
  write_text(tmp.path() / "w.txt", "  1 2\t 3\n4   5 6  \n");
  const auto w = make(tmp.path() / "w.txt", {{"delimiter", " "}, {"shuffle", false}, {"test_fraction", 0.0}});
  EXPECT_TRUE(torch::equal(all(*w, Split::Train), torch::tensor({{1.0F, 2.0F, 3.0F}, {4.0F, 5.0F, 6.0F}})));
}

TEST(FeaturesCsv, TestFileAndStandardisationWithTrainingStatistics) {
  TempDir tmp;
  write_text(tmp.path() / "train.csv", "u,v\n1,5\n3,5\n");
  write_text(tmp.path() / "test.csv", "u,v\n5,7\n");
  const auto d =
      make(tmp.path() / "train.csv", {{"test_path", (tmp.path() / "test.csv").string()}, {"standardise", true}});
  EXPECT_EQ(d->size(Split::Train), 2);
  EXPECT_EQ(d->size(Split::Test), 1);
  // u: mean 2, population std 1; v: mean 5, std 0 -> only centred. Test (5, 7) -> (3, 2).
  EXPECT_TRUE(torch::allclose(all(*d, Split::Test), torch::tensor({{3.0F, 2.0F}})));
  const auto train = all(*d, Split::Train);
  EXPECT_TRUE(torch::allclose(std::get<0>(train.select(1, 0).sort()), torch::tensor({-1.0F, 1.0F})));
}

TEST(FeaturesCsv, WrongFieldCountsAndNonNumbersAreLocated) {
  TempDir tmp;
  const auto f = tmp.path() / "f.csv";
  write_text(f, "a,b,c\n1,2,3\n4,5\n");
  auto what = error_of(f);
  EXPECT_NE(what.find("f.csv:3: expected 3 fields (as in line 1), found 2"), std::string::npos) << what;
  write_text(f, "a,b,c\n1,2,3\n4,five,6\n");
  what = error_of(f);
  EXPECT_NE(what.find("f.csv:3:3: expected a finite number in field 2 ('b'), found 'five'"), std::string::npos) << what;
  write_text(f, "1,2,3\n4,nan,6\n");
  what = error_of(f, {{"header", "no"}});
  EXPECT_NE(what.find("f.csv:2:3: expected a finite number in field 2, found 'nan'"), std::string::npos) << what;
  write_text(f, "1,2,3\n4,,6\n");
  what = error_of(f);
  EXPECT_NE(what.find("f.csv:2:3: expected a finite number in field 2, found ''"), std::string::npos) << what;
  write_text(f, "1,\"2,3\n");
  what = error_of(f);
  EXPECT_NE(what.find("f.csv:1:3: unterminated quoted field"), std::string::npos) << what;
}

TEST(FeaturesCsv, BadOptionsAndFilesAreErrors) {
  TempDir tmp;
  const auto f = tmp.path() / "f.csv";
  write_text(f, csv(5));
  auto what = error_of(f, {{"label_column", "speed"}});
  EXPECT_NE(what.find("/test/options/label_column: no column 'speed' in the header"), std::string::npos) << what;
  what = error_of(f, {{"label_column", "7"}});
  EXPECT_NE(what.find("/test/options/label_column: column index 7 out of range"), std::string::npos) << what;
  what = error_of(f, {{"delimiter", ",,"}});
  EXPECT_NE(what.find("/test/options/delimiter"), std::string::npos) << what;
  what = error_of(f, {{"test_fraction", 0.9}, {"validation_fraction", 0.5}, {"label_column", "motion"}});
  EXPECT_NE(what.find("/test/options/test_fraction: test_fraction + validation_fraction leave no training examples"),
            std::string::npos)
      << what;
  what = error_of(tmp.path() / "missing.csv");
  EXPECT_NE(what.find("missing.csv: cannot open"), std::string::npos) << what;
  write_text(f, "a,b\n\n");
  what = error_of(f);
  EXPECT_NE(what.find("f.csv: holds no data rows"), std::string::npos) << what;
  write_text(f, "1,2\n");
  write_text(tmp.path() / "t.csv", "1,2,3\n");
  what = error_of(f, {{"test_path", (tmp.path() / "t.csv").string()}});
  EXPECT_NE(what.find("t.csv:1: expected 2 fields"), std::string::npos) << what;
}

TEST(FeaturesCsv, DefaultPathIsBelowDataRoot) {
  TempDir tmp;
  write_text(tmp.path() / "features.csv", csv(10, true, false));
  BuildContext ctx;
  ctx.data_root = tmp.str();
  const auto d = priorlab::test::make<Dataset>("features_csv", json::object(), ctx);
  EXPECT_EQ(d->size(Split::Train), 9);
  EXPECT_EQ(d->size(Split::Test), 1);
}

TEST(FeaturesCsv, SmokeConfigRunsOnAFileWrittenHere) {
  TempDir tmp;
  std::string text = "x,y,z\n";
  for (int i = 0; i < 100; ++i)
    text += std::to_string(i % 7) + "," + std::to_string(i % 3) + "," + std::to_string(i) + "\n";
  write_text(tmp.path() / "features.csv", text);
  const auto r =
      priorlab::test::run_cli("run '" PRIORLAB_SOURCE_DIR "/configs/datasets/features_csv.json' --out '" + tmp.str() +
                              "/runs' --set data_root='" + tmp.str() +
                              "' --set training.iterations=3 --set training.batch_size=8 --set 'evaluators=[]'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "runs" / "features_csv_smoke" / "summary.json")) << r.output;
}
