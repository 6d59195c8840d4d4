#include "client/lib/format/event_format.h"

#include "client/lib/format/text_util.h"
#include "gtest/gtest.h"

namespace ft::client {
namespace {

ft::v1::JobEvent Event(uint64_t seq) {
  ft::v1::JobEvent event;
  event.set_job_id("job-3");
  event.set_seq(seq);
  return event;
}

TEST(EventFormatTest, ProgressLine) {
  ft::v1::JobEvent event = Event(12);
  ft::v1::TrainingProgress* p = event.mutable_progress();
  p->set_step(40);
  p->set_total_steps(200);
  p->set_epoch(1);
  p->set_loss(0.69314);
  p->set_learning_rate(1e-3);
  p->set_samples_per_second(312.5);
  p->set_tokens_per_second(20480);
  p->set_eta_seconds(51.2);
  EXPECT_EQ(FormatEventLine(event),
            "[job-3 #12] step 40/200 epoch 1 loss 0.6931 lr 1.00e-03 312.5 samples/s "
            "20480 tokens/s eta 51s");
}

TEST(EventFormatTest, ProgressWithoutTotalOrEta) {
  ft::v1::TrainingProgress p;
  p.set_step(7);
  p.set_loss(1.5);
  p.set_learning_rate(2.5e-4);
  p.set_eta_seconds(-1);
  EXPECT_EQ(FormatProgress(p), "step 7 loss 1.5000 lr 2.50e-04 0.0 samples/s 0 tokens/s");
}

TEST(EventFormatTest, EvaluationLine) {
  ft::v1::JobEvent event = Event(13);
  ft::v1::Evaluation* e = event.mutable_evaluation();
  e->set_split("validation");
  e->set_accuracy(0.812);
  e->set_loss(0.42113);
  e->set_examples(500);
  EXPECT_EQ(FormatEventLine(event),
            "[job-3 #13] eval validation: accuracy 81.20% loss 0.4211 (500 examples)");
}

TEST(EventFormatTest, EvaluationLineShowsMacroF1WhenThereArePerClassMetrics) {
  ft::v1::JobEvent event = Event(14);
  ft::v1::Evaluation* e = event.mutable_evaluation();
  e->set_split("validation");
  e->set_accuracy(0.87);
  e->set_macro_f1(0.46524);
  e->set_loss(0.4);
  e->set_examples(557);
  e->add_classes()->set_label("ham");
  e->add_classes()->set_label("spam");
  EXPECT_EQ(FormatEventLine(event),
            "[job-3 #14] eval validation: accuracy 87.00% macro-F1 0.4652 loss 0.4000 "
            "(557 examples)");
}

TEST(EventFormatTest, CausalLmEvaluationLineIsPerTargetToken) {
  ft::v1::JobEvent event = Event(15);
  ft::v1::Evaluation* e = event.mutable_evaluation();
  e->set_split("validation");
  e->set_accuracy(0.4125);
  e->set_loss(1.5);
  e->set_perplexity(4.4817);
  e->set_examples(40);
  e->set_target_tokens(320);
  EXPECT_EQ(FormatEventLine(event),
            "[job-3 #15] eval validation: perplexity 4.482 token accuracy 41.25% loss 1.5000 "
            "(40 examples, 320 target tokens)");
}

TEST(EventFormatTest, StateChangeLines) {
  ft::v1::JobEvent event = Event(2);
  ft::v1::StateChange* change = event.mutable_state_change();
  change->set_from(ft::v1::QUEUED);
  change->set_to(ft::v1::RUNNING);
  change->set_reason("attempt 1 started on worker local-0");
  EXPECT_EQ(FormatEventLine(event),
            "[job-3 #2] state QUEUED -> RUNNING: attempt 1 started on worker local-0");

  ft::v1::JobEvent first = Event(1);
  first.mutable_state_change()->set_to(ft::v1::QUEUED);
  first.mutable_state_change()->set_reason("submitted");
  EXPECT_EQ(FormatEventLine(first), "[job-3 #1] state QUEUED: submitted");

  ft::v1::StateChange no_reason;
  no_reason.set_from(ft::v1::RUNNING);
  no_reason.set_to(ft::v1::SUCCEEDED);
  EXPECT_EQ(FormatStateChange(no_reason), "RUNNING -> SUCCEEDED");
}

TEST(EventFormatTest, LogLine) {
  ft::v1::JobEvent event = Event(5);
  event.mutable_log()->set_level("warning");
  event.mutable_log()->set_message("3 rows skipped");
  EXPECT_EQ(FormatEventLine(event), "[job-3 #5] log warning: 3 rows skipped");
  event.mutable_log()->clear_level();
  EXPECT_EQ(FormatEventLine(event), "[job-3 #5] log info: 3 rows skipped");
}

TEST(TextUtilTest, Durations) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(51.4), "51s");
  EXPECT_EQ(FormatDuration(185), "3m05s");
  EXPECT_EQ(FormatDuration(3720), "1h02m");
  EXPECT_EQ(FormatDuration(2 * 86400 + 3 * 3600), "2d03h");
  EXPECT_EQ(FormatDuration(-1), "?");
  EXPECT_EQ(FormatDuration(std::nan("")), "?");
  EXPECT_EQ(FormatAge(absl::Seconds(45)), "45s");
  EXPECT_EQ(FormatAge(absl::Minutes(12) + absl::Seconds(59)), "12m");
  EXPECT_EQ(FormatAge(absl::Hours(49)), "2d");
  EXPECT_EQ(FormatAge(-absl::Seconds(3)), "0s");  // clock skew
}

TEST(TextUtilTest, States) {
  EXPECT_EQ(ParseState("running"), ft::v1::RUNNING);
  EXPECT_EQ(ParseState("CANCELLED"), ft::v1::CANCELLED);
  EXPECT_EQ(ParseState("Queued"), ft::v1::QUEUED);
  EXPECT_EQ(ParseState("bogus"), std::nullopt);
  EXPECT_EQ(ParseState("job_state_unspecified"), std::nullopt);
  EXPECT_EQ(StateName(ft::v1::SUCCEEDED), "SUCCEEDED");
  EXPECT_TRUE(IsFinalState(ft::v1::FAILED));
  EXPECT_FALSE(IsFinalState(ft::v1::CANCELLING));
}

TEST(TextUtilTest, TableAlignsColumnsWithoutTrailingSpaces) {
  EXPECT_EQ(RenderTable({"ID", "STATE"}, {{"job-10", "QUEUED"}, {"job-9", "-"}}),
            "ID      STATE\n"
            "job-10  QUEUED\n"
            "job-9   -\n");
}

}  // namespace
}  // namespace ft::client
