#include "client/lib/format/job_format.h"

#include "common/util/time_util.h"
#include "ft/v1/finetune_service.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"

namespace ft::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

ft::v1::Job RunningJob() {
  ft::v1::Job job;
  job.set_id("job-3");
  job.set_state(ft::v1::RUNNING);
  job.set_attempt(1);
  job.set_worker_id("local-0");
  ft::v1::JobSpec* spec = job.mutable_spec();
  spec->set_model("scratch:bloom-tiny");
  spec->set_display_name("baseline");
  spec->mutable_dataset()->set_train("/data/sms.csv");
  spec->mutable_dataset()->set_text_column("text");
  spec->mutable_dataset()->set_label_column("label");
  spec->mutable_dataset()->set_validation_fraction(0.1);
  spec->set_micro_batch_size(16);
  spec->set_accumulation_steps(4);
  spec->set_epochs(2);
  spec->set_learning_rate(1e-3);
  spec->set_optimizer("adamw");
  spec->set_max_seq_length(256);
  ft::v1::TrainingProgress* p = job.mutable_progress();
  p->set_step(40);
  p->set_total_steps(200);
  p->set_epoch(1);
  p->set_loss(0.6931);
  p->set_samples_per_second(312.5);
  p->set_eta_seconds(51);
  ft::v1::Evaluation* e = job.add_evaluations();
  e->set_split("validation");
  e->set_step(40);
  e->set_accuracy(0.812);
  e->set_loss(0.4211);
  e->set_examples(500);
  job.set_output_dir("/home/ftd/jobs/job-3");
  *job.mutable_create_time() = ToProtoTime(kNow - absl::Minutes(5));
  *job.mutable_start_time() = ToProtoTime(kNow - absl::Minutes(4));
  return job;
}

TEST(JobTableTest, OneRowPerJobWithDashesForMissingValues) {
  ft::v1::Job queued;
  queued.set_id("job-4");
  queued.set_state(ft::v1::QUEUED);
  queued.mutable_spec()->set_model("scratch:bloom-560m");
  *queued.mutable_create_time() = ToProtoTime(kNow - absl::Seconds(7));
  EXPECT_EQ(FormatJobTable({queued, RunningJob()}, kNow),
            "ID     STATE    MODEL               STEP/TOTAL  LOSS    VAL ACC  AGE\n"
            "job-4  QUEUED   scratch:bloom-560m  -           -       -        7s\n"
            "job-3  RUNNING  scratch:bloom-tiny  40/200      0.6931  81.20%   5m\n");
}

TEST(JobSummaryTest, ShowsEffectiveBatchProgressAndEvaluations) {
  const std::string text = FormatJobSummary(RunningJob(), kNow, absl::UTCTimeZone());
  EXPECT_THAT(text, HasSubstr("Job          job-3 (baseline)\n"));
  EXPECT_THAT(text, HasSubstr("State        RUNNING, attempt 1, worker local-0\n"));
  EXPECT_THAT(text, HasSubstr("micro-batch 16 x accumulation 4 = effective batch 64"));
  EXPECT_THAT(text, HasSubstr("train /data/sms.csv"));
  EXPECT_THAT(text, HasSubstr("validation: 10% of train"));
  EXPECT_THAT(text, HasSubstr("Progress     step 40/200 (20%), epoch 1, loss 0.6931"));
  EXPECT_THAT(text, HasSubstr("eta 51s"));
  EXPECT_THAT(text, HasSubstr("validation: accuracy 81.20% loss 0.4211 (500 examples) at step 40"));
  EXPECT_THAT(text, HasSubstr("Output       /home/ftd/jobs/job-3\n"));
  EXPECT_THAT(text, HasSubstr("Created      2023-11-14 22:08:20 UTC (5m ago)\n"));
  EXPECT_THAT(text, HasSubstr("Started      2023-11-14 22:09:20 UTC (4m ago)\n"));
  EXPECT_THAT(text, Not(HasSubstr("Ended")));
  EXPECT_THAT(text, Not(HasSubstr("Error")));
}

// ft::v1::Evaluation of SMS spam with per-class metrics: 430 ham and 8 spam right.
ft::v1::Evaluation SpamEvaluation() {
  ft::v1::Evaluation e;
  e.set_split("test");
  e.set_step(40);
  e.set_accuracy(0.976);
  e.set_loss(0.09);
  e.set_examples(500);
  e.set_macro_f1(0.5951);
  ft::v1::ClassMetrics* ham = e.add_classes();
  ham->set_label("ham");
  ham->set_precision(0.9663);
  ham->set_recall(0.9908);
  ham->set_f1(0.9784);
  ham->set_support(434);
  ham->set_predicted(445);
  ft::v1::ClassMetrics* spam = e.add_classes();
  spam->set_label("spam");
  spam->set_precision(0.1);
  spam->set_recall(0.0152);
  spam->set_f1(0.0263);
  spam->set_support(66);
  spam->set_predicted(55);
  for (uint64_t count : {430, 4, 15, 51}) e.add_confusion(count);
  return e;
}

TEST(JobSummaryTest, ShowsPerClassTableAndConfusionMatrix) {
  ft::v1::Job job = RunningJob();
  *job.add_evaluations() = SpamEvaluation();
  job.mutable_spec()->set_lr_scheduler("cosine");
  job.mutable_spec()->set_label_smoothing(0.1);
  job.mutable_spec()->set_model_dropout("off");
  job.mutable_spec()->set_early_stopping_patience(3);
  job.mutable_spec()->set_early_stopping_metric("macro_f1");
  job.mutable_spec()->set_keep_best_model(true);
  const std::string text = FormatJobSummary(job, kNow, absl::UTCTimeZone());
  EXPECT_THAT(text, HasSubstr("test: accuracy 97.60% macro-F1 0.5951 loss 0.0900 (500 examples) "
                              "at step 40\n"));
  EXPECT_THAT(text, HasSubstr("Per class    test at step 40\n"
                              "             LABEL  PRECISION  RECALL  F1      SUPPORT  PREDICTED\n"
                              "             ham    0.9663     0.9908  0.9784  434      445\n"
                              "             spam   0.1000     0.0152  0.0263  66       55\n"));
  EXPECT_THAT(text, HasSubstr("Confusion    test (rows: true label, columns: predicted)\n"
                              "             TRUE \\ PREDICTED  ham  spam\n"
                              "             ham               430  4\n"
                              "             spam              15   51\n"));
  // The validation evaluation has no per-class metrics (an older worker): no table for it.
  EXPECT_THAT(text, Not(HasSubstr("Per class    validation")));
  EXPECT_THAT(text, HasSubstr(", cosine schedule, no model dropout, label smoothing 0.1, "
                              "early stopping on validation macro_f1 (patience 3), keeps the best "
                              "model by "
                              "validation macro_f1"));
}

TEST(JobSummaryTest, ShowsTheError) {
  ft::v1::Job job = RunningJob();
  job.set_state(ft::v1::FAILED);
  job.set_error("training failed: loss is NaN at step 41");
  *job.mutable_end_time() = ToProtoTime(kNow);
  const std::string text = FormatJobSummary(job, kNow, absl::UTCTimeZone());
  EXPECT_THAT(text, HasSubstr("Error        training failed: loss is NaN at step 41\n"));
  EXPECT_THAT(text, HasSubstr("Ended        2023-11-14 22:13:20 UTC (0s ago)\n"));
  EXPECT_THAT(text, Not(HasSubstr("eta")));
}

TEST(FinalSummaryTest, StateErrorAndAccuracies) {
  ft::v1::Job job = RunningJob();
  job.set_state(ft::v1::SUCCEEDED);
  *job.mutable_end_time() = ToProtoTime(kNow);
  ft::v1::Evaluation* later = job.add_evaluations();
  later->set_split("validation");
  later->set_step(200);
  later->set_accuracy(0.9);
  later->set_loss(0.25);
  later->set_examples(500);
  ft::v1::Evaluation* test = job.add_evaluations();
  test->set_split("test");
  test->set_step(200);
  test->set_accuracy(0.885);
  test->set_loss(0.3);
  test->set_examples(1000);
  EXPECT_EQ(FormatFinalSummary(job),
            "job-3 SUCCEEDED after 4m00s\n"
            "validation accuracy 90.00% (loss 0.2500, 500 examples, step 200)\n"
            "test accuracy 88.50% (loss 0.3000, 1000 examples, step 200)\n"
            "output: /home/ftd/jobs/job-3\n");

  ft::v1::Job failed;
  failed.set_id("job-5");
  failed.set_state(ft::v1::FAILED);
  failed.set_attempt(2);
  failed.set_error("worker lost");
  EXPECT_EQ(FormatFinalSummary(failed), "job-5 FAILED (attempt 2)\nerror: worker lost\n");

  ft::v1::Evaluation later_test = SpamEvaluation();
  later_test.set_step(300);
  *job.add_evaluations() = later_test;
  EXPECT_THAT(FormatFinalSummary(job),
              HasSubstr("test accuracy 97.60% macro-F1 0.5951 (loss 0.0900, 500 examples, "
                        "step 300)\n"));
}

TEST(JobJsonTest, ProtoFieldNamesAndRoundTrip) {
  absl::StatusOr<std::string> json = JobToJson(RunningJob());
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_THAT(*json, HasSubstr("\"micro_batch_size\": 16"));
  EXPECT_THAT(*json, HasSubstr("\"state\": \"RUNNING\""));
  ft::v1::Job parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok());
  EXPECT_EQ(parsed.SerializeAsString(), RunningJob().SerializeAsString());
}

TEST(JobJsonTest, ArrayOfJobs) {
  EXPECT_EQ(*JobsToJson({}), "[]");
  ft::v1::Job other = RunningJob();
  other.set_id("job-2");
  absl::StatusOr<std::string> json = JobsToJson({RunningJob(), other});
  ASSERT_TRUE(json.ok()) << json.status();
  EXPECT_EQ(json->front(), '[');
  EXPECT_EQ(json->back(), ']');
  // Valid JSON: wrap it so that a message can parse it back.
  ft::v1::ListJobsResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage("{\"jobs\": " + *json + "}", &response).ok());
  ASSERT_EQ(response.jobs_size(), 2);
  EXPECT_EQ(response.jobs(1).id(), "job-2");
}

}  // namespace
}  // namespace ft::client
