// Option declarations: defaults filled in, and every kind of bad value refused with its JSON path.
#include <gtest/gtest.h>

#include "priorlab/error.hpp"
#include "priorlab/evaluation.hpp"
#include "priorlab/options.hpp"

using namespace priorlab;

namespace {

OptionSet declaration() {
  return OptionSet{}
      .add(Option::integer("samples", 16).min(1).help("K"))
      .add(Option::real("beta", 1.0).greater_than(0).max(1))
      .add(Option::string("measure", "nll").choices({"nll", "squared_error"}))
      .add(Option::boolean("learn", false))
      .add(Option::int_list("hidden", {256, 256}).min(1));
}

// Runs resolve and returns the error text (empty when it succeeded).
std::string error_of(const json& section) {
  try {
    declaration().resolve(section, "/prior/options");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Options, ResolveFillsEveryDefaultAndKeepsGivenValues) {
  const json r = declaration().resolve(json{{"samples", 4}}, "/p");
  EXPECT_EQ(r["samples"], 4);
  EXPECT_EQ(r["beta"], 1.0);
  EXPECT_EQ(r["measure"], "nll");
  EXPECT_EQ(r["learn"], false);
  EXPECT_EQ(r["hidden"], json({256, 256}));
  EXPECT_EQ(declaration().resolve(json(), "/p").size(), 5u);  // null section: all defaults
}

TEST(Options, UnknownKeyNamesItsPathAndTheKnownOptions) {
  const std::string e = error_of(json{{"sampels", 3}});
  EXPECT_EQ(e, "/prior/options/sampels: unknown option 'sampels' (known: samples, beta, measure, learn, hidden); "
               "did you mean 'samples'?");
  // Nothing close: no suggestion (issue 16, case 14).
  EXPECT_EQ(error_of(json{{"tau", 1}}),
            "/prior/options/tau: unknown option 'tau' (known: samples, beta, measure, learn, hidden)");
}

TEST(Options, Case14_DidYouMeanPicksTheClosestNameWithinAThirdOfTheWord) {
  // Hand-computed Levenshtein distances: sampels -> samples 2 (a swap is two edits), limit 7/3 = 2.
  EXPECT_EQ(priorlab::did_you_mean("sampels", {"beta", "samples"}), "; did you mean 'samples'?");
  EXPECT_EQ(priorlab::did_you_mean("lr", {"learning_rate"}), "");  // 11 edits
  EXPECT_EQ(priorlab::did_you_mean("vhpp", {"vhp", "vamp"}), "; did you mean 'vhp'?");  // 1 vs 2
  EXPECT_EQ(priorlab::did_you_mean("ab", {"xy"}), "");  // 2 > max(1, 0)
  EXPECT_EQ(priorlab::did_you_mean("x", {}), "");
}

TEST(Options, WrongTypeSaysWhatWasExpectedAndFound) {
  EXPECT_EQ(error_of(json{{"samples", "many"}}), "/prior/options/samples: expected integer >= 1, found string \"many\"");
  EXPECT_EQ(error_of(json{{"learn", 1}}), "/prior/options/learn: expected boolean, found number 1");
  EXPECT_NE(error_of(json{{"samples", 2.5}}).find("expected integer"), std::string::npos);
}

TEST(Options, OutOfRangeValuesAreRefusedAtBothEndsAndExclusiveBoundsHold) {
  EXPECT_NE(error_of(json{{"samples", 0}}).find("/prior/options/samples: expected integer >= 1, found number 0"), std::string::npos);
  EXPECT_NE(error_of(json{{"beta", 0.0}}).find("number in (0, 1]"), std::string::npos);  // exclusive lower bound
  EXPECT_NE(error_of(json{{"beta", 1.5}}).find("found number 1.5"), std::string::npos);
  EXPECT_EQ(error_of(json{{"beta", 1.0}}), "");  // inclusive upper bound
  EXPECT_EQ(error_of(json{{"beta", 1e-9}}), "");
}

TEST(Options, AnExclusiveUpperBoundRefusesTheBoundAndSaysSo) {
  const Option alpha = Option::real("alpha", 0.5).min(0).less_than(1);
  EXPECT_EQ(alpha.describe_type(), "number in [0, 1)");
  EXPECT_EQ(alpha.validate(0.999, "/a"), 0.999);
  EXPECT_EQ(alpha.validate(0.0, "/a"), 0.0);
  try {
    alpha.validate(1.0, "/a");
    ADD_FAILURE() << "alpha = 1 accepted";
  } catch (const priorlab::Error& e) {
    EXPECT_STREQ(e.what(), "/a: expected number in [0, 1), found number 1.0");
  }
  const Option back = Option::from_json(alpha.to_json());
  EXPECT_TRUE(back.maximum_exclusive());
  EXPECT_EQ(back.describe_type(), "number in [0, 1)");
  EXPECT_EQ(Option::real("x", 0).less_than(2).describe_type(), "number < 2");
}

TEST(Options, ChoicesAndListElementsAreChecked) {
  EXPECT_EQ(error_of(json{{"measure", "l2"}}),
            "/prior/options/measure: expected string, one of nll|squared_error, found string \"l2\"");
  EXPECT_EQ(error_of(json{{"hidden", {64, 0}}}),
            "/prior/options/hidden/1: expected each element to be integer >= 1, found number 0");
  EXPECT_NE(error_of(json{{"hidden", 64}}).find("expected list of integers"), std::string::npos);
}

TEST(Options, IntegralFloatsAreAcceptedAsIntegers) {
  const json r = declaration().resolve(json{{"samples", 1e3}}, "/p");
  EXPECT_TRUE(r["samples"].is_number_integer());
  EXPECT_EQ(r["samples"].get<int>(), 1000);
}

TEST(Options, DeclarationRoundTripsThroughJson) {
  const OptionSet back = OptionSet::from_json(declaration().to_json());
  ASSERT_EQ(back.items().size(), 5u);
  EXPECT_EQ(back.to_json(), declaration().to_json());
  EXPECT_EQ(back.find("beta")->describe_type(), "number in (0, 1]");
  EXPECT_EQ(back.find("samples")->help_text(), "K");
}

TEST(Options, TypedAccessNamesTheKeyOnMisuse) {
  const Options o(declaration().resolve(json(), "/x"), "/x");
  EXPECT_EQ(o.integer("samples"), 16);
  EXPECT_EQ(o.int_list("hidden"), (std::vector<std::int64_t>{256, 256}));
  try {
    o.real("missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.where(), "/x/missing");
  }
  EXPECT_THROW(o.integer("measure"), Error);
}

TEST(Options, DuplicateDeclarationIsAnError) {
  EXPECT_THROW(OptionSet{}.add(Option::integer("a", 1)).add(Option::real("a", 2)), Error);
}

TEST(Evaluation, ArtefactNamesArePlainPngFileNames) {
  EXPECT_EQ(artefact_path("/runs/x/artefacts", "latent.png"), "/runs/x/artefacts/latent.png");
  for (const char* bad : {"../../x.png", "sub/x.png", "latent", "latent.jpg", ".png", ""})
    EXPECT_THROW(artefact_path("/a", bad), Error) << bad;
}
