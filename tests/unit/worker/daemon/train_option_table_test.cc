// The option table (worker/train/train_option_fields.h) against what it must cover: every field
// of TrainOptions and every field of JobSpec. No LibTorch.
#include <gtest/gtest.h>

#include <cstddef>
#include <set>
#include <string>
#include <utility>

#include "worker/daemon/spec_to_options.h"
#include "worker/train/train_option_fields.h"

namespace ft {
namespace {

// Converts to any member type, so that `T{AnyField{}, ...}` compiles exactly while the number of
// initializers is at most the number of T's fields (aggregate initialization).
struct AnyField {
  template <typename T>
  operator T() const;  // declared only: used in unevaluated contexts
};

template <typename T, typename Indices, typename = void>
struct TakesInitializers : std::false_type {};
template <typename T, std::size_t... I>
struct TakesInitializers<T, std::index_sequence<I...>,
                         std::void_t<decltype(T{(static_cast<void>(I), AnyField{})...})>>
    : std::true_type {};

// The number of fields of the aggregate T: the most initializers that T{...} accepts.
template <typename T, std::size_t N = 0>
constexpr std::size_t FieldCount() {
  if constexpr (TakesInitializers<T, std::make_index_sequence<N + 1>>::value) {
    return FieldCount<T, N + 1>();
  } else {
    return N;
  }
}

TEST(TrainOptionTableTest, HasARowForEveryFieldOfTrainOptions) {
  static_assert(std::is_aggregate_v<train::TrainOptions>);
  EXPECT_EQ(FieldCount<train::TrainOptions>(), std::size(train::kTrainOptionFields))
      << "TrainOptions (worker/train/train_job.h) and kTrainOptionFields "
         "(worker/train/train_option_fields.h) differ: give each field of TrainOptions one row "
         "(docs/design.md, \"Adding a training option\")";
}

TEST(TrainOptionTableTest, NamesAndMembersAppearOnce) {
  std::set<std::string> names;
  for (const train::TrainOptionField& row : train::kTrainOptionFields) {
    EXPECT_TRUE(names.insert(row.name).second) << row.name << " has two rows";
    for (const train::TrainOptionField& other : train::kTrainOptionFields) {
      if (&other == &row || std::holds_alternative<std::monostate>(row.member)) continue;
      EXPECT_FALSE(other.member == row.member) << row.name << " and " << other.name;
    }
  }
}

TEST(TrainOptionTableTest, MatchesJobSpecsFields) {
  for (const std::string& problem : worker::OptionTableProblems()) ADD_FAILURE() << problem;
}

TEST(TrainOptionTableTest, SpecFieldsReachTheirMembers) {
  ft::v1::JobSpec spec;
  spec.set_model("scratch:bloom-tiny");
  spec.mutable_dataset()->set_train("train.csv");
  spec.mutable_dataset()->set_validation_fraction(0.25);
  spec.mutable_dataset()->set_text_column("sentence");
  spec.set_micro_batch_size(4);
  spec.set_accumulation_steps(3);
  spec.set_seed(1ULL << 40);
  spec.set_learning_rate(0.5);
  spec.set_label_smoothing(0.125);
  spec.set_model_dropout("off");
  spec.set_group_by_length(true);
  spec.set_early_stopping_metric("loss");
  spec.set_checkpoint_every_steps(7);
  const train::TrainOptions options = worker::ToTrainOptions(spec, "/out", 3);
  EXPECT_EQ(options.model, "scratch:bloom-tiny");
  EXPECT_EQ(options.train_path, "train.csv");
  EXPECT_EQ(options.validation_fraction, 0.25);
  EXPECT_EQ(options.text_column, "sentence");
  EXPECT_EQ(options.micro_batch_size, 4);
  EXPECT_EQ(options.accumulation_steps, 3);
  EXPECT_EQ(options.effective_batch_size, 12);
  EXPECT_EQ(options.seed, 1ULL << 40);
  EXPECT_EQ(options.learning_rate, 0.5);
  EXPECT_EQ(options.label_smoothing, 0.125);
  EXPECT_EQ(options.model_dropout, "off");
  EXPECT_TRUE(options.group_by_length);
  EXPECT_EQ(options.early_stopping_metric, "loss");
  EXPECT_EQ(options.checkpoint_every_steps, 7);
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.output_dir, "/out");
  // Empty strings of fields added after specs were first stored keep TrainOptions' defaults;
  // the others are copied as they are.
  EXPECT_EQ(options.lr_scheduler, "linear");
  EXPECT_EQ(options.task, "sequence_classification");
  EXPECT_EQ(options.optimizer, "");
  EXPECT_FALSE(options.lora.enabled);
}

}  // namespace
}  // namespace ft
