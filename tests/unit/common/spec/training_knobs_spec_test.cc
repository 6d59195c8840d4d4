// Defaults and validation of the training knobs: lr_scheduler, label_smoothing,
// early_stopping_patience, early_stopping_metric, keep_best_model.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "absl/strings/match.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_limits.h"
#include "common/spec/spec_validation.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::spec {
namespace {

using ft::testing::TempDir;
using ft::v1::JobSpec;

class TrainingKnobsSpecTest : public ::testing::Test {
 protected:
  void SetUp() override { csv_ = dir_.Write("train.csv", ft::testing::SmallCsv()); }

  // A valid spec, changed by `mutate` before the defaults are applied, then validated.
  absl::Status Validate(const std::function<void(JobSpec&)>& mutate) {
    JobSpec spec = ft::testing::ValidSpec(csv_);
    mutate(spec);
    return ValidateSpec(WithDefaults(spec, dir_.path().string()));
  }

  static void ExpectInvalid(const absl::Status& status, const std::string& field,
                            const std::string& value) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "spec." + field)) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), value)) << status;
  }

  TempDir dir_;
  std::string csv_;
};

TEST(TrainingKnobsDefaultsTest, LinearScheduleAndAccuracyOnlyWhenUsed) {
  JobSpec spec;
  JobSpec out = WithDefaults(spec, "/base");
  EXPECT_EQ(out.lr_scheduler(), "linear");
  EXPECT_EQ(out.label_smoothing(), 0.0);
  EXPECT_EQ(out.early_stopping_patience(), 0u);
  EXPECT_EQ(out.early_stopping_metric(), "");  // nothing uses it
  EXPECT_FALSE(out.keep_best_model());

  spec.set_early_stopping_patience(3);
  EXPECT_EQ(WithDefaults(spec, "/base").early_stopping_metric(), "accuracy");
  spec.set_early_stopping_patience(0);
  spec.set_keep_best_model(true);
  EXPECT_EQ(WithDefaults(spec, "/base").early_stopping_metric(), "accuracy");
  spec.set_early_stopping_metric("macro_f1");
  spec.set_lr_scheduler("cosine");
  out = WithDefaults(spec, "/base");
  EXPECT_EQ(out.early_stopping_metric(), "macro_f1");
  EXPECT_EQ(out.lr_scheduler(), "cosine");
  EXPECT_EQ(WithDefaults(out, "/x").SerializeAsString(), out.SerializeAsString());
}

TEST_F(TrainingKnobsSpecTest, AcceptsEveryDocumentedValue) {
  for (const char* scheduler : {"linear", "cosine", "constant"}) {
    EXPECT_TRUE(Validate([&](JobSpec& s) { s.set_lr_scheduler(scheduler); }).ok()) << scheduler;
  }
  for (double smoothing : {0.0, 0.1, std::nextafter(1.0, 0.0)}) {
    EXPECT_TRUE(Validate([&](JobSpec& s) { s.set_label_smoothing(smoothing); }).ok()) << smoothing;
  }
  for (const char* dropout : {"", "config", "off"}) {
    EXPECT_TRUE(Validate([&](JobSpec& s) { s.set_model_dropout(dropout); }).ok()) << dropout;
  }
  for (const char* metric : {"accuracy", "loss", "macro_f1"}) {
    EXPECT_TRUE(Validate([&](JobSpec& s) {
                  s.set_early_stopping_patience(2);
                  s.set_early_stopping_metric(metric);
                }).ok())
        << metric;
    EXPECT_TRUE(Validate([&](JobSpec& s) {
                  s.set_keep_best_model(true);
                  s.set_early_stopping_metric(metric);
                }).ok())
        << metric;
  }
  EXPECT_TRUE(Validate([](JobSpec& s) { s.set_early_stopping_patience(1); }).ok());
  EXPECT_TRUE(
      Validate([](JobSpec& s) { s.set_early_stopping_patience(kMaxEarlyStoppingPatience); }).ok());
  // A spec stored before lr_scheduler existed (no defaults applied) still passes.
  JobSpec old = WithDefaults(ft::testing::ValidSpec(csv_), dir_.path().string());
  old.clear_lr_scheduler();
  EXPECT_TRUE(ValidateSpec(old).ok());
}

TEST_F(TrainingKnobsSpecTest, RefusesBadValuesNamingTheField) {
  ExpectInvalid(Validate([](JobSpec& s) { s.set_lr_scheduler("step"); }), "lr_scheduler", "'step'");
  ExpectInvalid(Validate([](JobSpec& s) { s.set_lr_scheduler("Cosine"); }), "lr_scheduler",
                "cosine");
  ExpectInvalid(Validate([](JobSpec& s) { s.set_model_dropout("none"); }), "model_dropout",
                "'none' (expected config or off)");
  for (double smoothing : {1.0, -0.1, 2.0, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(smoothing);
    ExpectInvalid(Validate([&](JobSpec& s) { s.set_label_smoothing(smoothing); }),
                  "label_smoothing", "[0, 1)");
  }
  ExpectInvalid(
      Validate([](JobSpec& s) { s.set_early_stopping_patience(kMaxEarlyStoppingPatience + 1); }),
      "early_stopping_patience", std::to_string(kMaxEarlyStoppingPatience + 1));
  ExpectInvalid(Validate([](JobSpec& s) {
                  s.set_early_stopping_patience(2);
                  s.set_early_stopping_metric("f1");
                }),
                "early_stopping_metric", "'f1'");
  // A metric that nothing uses is most likely a forgotten patience.
  ExpectInvalid(Validate([](JobSpec& s) { s.set_early_stopping_metric("loss"); }),
                "early_stopping_metric", "early_stopping_patience");
}

}  // namespace
}  // namespace ft::spec
