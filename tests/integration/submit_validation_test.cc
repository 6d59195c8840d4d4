// Bad specs are refused at SubmitJob with a code and a message naming the field; nothing is
// queued and the daemon keeps serving.
#include <cmath>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"

namespace ft::testing {
namespace {

struct BadSpec {
  std::string name;
  std::function<void(ft::v1::JobSpec&, const std::string& dir)> mutate;
  grpc::StatusCode code;
  std::string message_part;
};

TEST(SubmitValidationTest, RefusesBadSpecsWithPreciseErrors) {
  TempDir dir;
  const std::string csv = dir.Path("toy.csv");
  WriteToyCsv(csv, 40, 4);
  std::ofstream(dir.Path("other_columns.csv")) << "review,sentiment\nfine,1\n";
  std::ofstream(dir.Path("broken.csv")) << "text,label\n\"unterminated,1\n";
  std::filesystem::create_directories(dir.Path("folder.csv"));
  FtdProcess ftd(FtdProcessOptions{dir.Path("home"), 0});
  ftd.Start();

  const std::vector<BadSpec> cases = {
      {"no model", [](auto& s, auto&) { s.clear_model(); }, grpc::INVALID_ARGUMENT, "spec.model"},
      {"unknown model", [](auto& s, auto&) { s.set_model("scratch:nope"); }, grpc::INVALID_ARGUMENT,
       "scratch:bloom-tiny"},
      {"missing model folder", [](auto& s, auto& d) { s.set_model(d + "/no-model"); },
       grpc::NOT_FOUND, "spec.model"},
      {"micro batch 0", [](auto& s, auto&) { s.set_micro_batch_size(0); }, grpc::INVALID_ARGUMENT,
       "spec.micro_batch_size"},
      {"micro batch huge", [](auto& s, auto&) { s.set_micro_batch_size(1u << 31); },
       grpc::INVALID_ARGUMENT, "spec.micro_batch_size"},
      {"accumulation 0", [](auto& s, auto&) { s.set_accumulation_steps(0); },
       grpc::INVALID_ARGUMENT, "spec.accumulation_steps"},
      {"epochs 0", [](auto& s, auto&) { s.set_epochs(0); }, grpc::INVALID_ARGUMENT, "spec.epochs"},
      {"lr NaN", [](auto& s, auto&) { s.set_learning_rate(NAN); }, grpc::INVALID_ARGUMENT,
       "spec.learning_rate"},
      {"lr negative", [](auto& s, auto&) { s.set_learning_rate(-1); }, grpc::INVALID_ARGUMENT,
       "spec.learning_rate"},
      {"lr infinite", [](auto& s, auto&) { s.set_learning_rate(INFINITY); }, grpc::INVALID_ARGUMENT,
       "spec.learning_rate"},
      {"optimizer", [](auto& s, auto&) { s.set_optimizer("lion"); }, grpc::INVALID_ARGUMENT,
       "spec.optimizer"},
      {"seq length", [](auto& s, auto&) { s.set_max_seq_length(1u << 20); }, grpc::INVALID_ARGUMENT,
       "spec.max_seq_length"},
      {"missing train", [](auto& s, auto& d) { s.mutable_dataset()->set_train(d + "/nope.csv"); },
       grpc::NOT_FOUND, "spec.dataset.train"},
      {"no train", [](auto& s, auto&) { s.mutable_dataset()->clear_train(); },
       grpc::INVALID_ARGUMENT, "spec.dataset.train"},
      {"missing test", [](auto& s, auto& d) { s.mutable_dataset()->set_test(d + "/nope.csv"); },
       grpc::NOT_FOUND, "spec.dataset.test"},
      {"directory", [](auto& s, auto& d) { s.mutable_dataset()->set_train(d + "/folder.csv"); },
       grpc::INVALID_ARGUMENT, "spec.dataset.train"},
      {"missing column",
       [](auto& s, auto& d) { s.mutable_dataset()->set_train(d + "/other_columns.csv"); },
       grpc::INVALID_ARGUMENT, "no column 'text'"},
      {"format", [](auto& s, auto&) { s.mutable_dataset()->set_format("parquet"); },
       grpc::INVALID_ARGUMENT, "spec.dataset.format"},
      {"fraction", [](auto& s, auto&) { s.mutable_dataset()->set_validation_fraction(1.5); },
       grpc::INVALID_ARGUMENT, "validation_fraction"},
      {"precision", [](auto& s, auto&) { s.set_precision("fp8"); }, grpc::INVALID_ARGUMENT,
       "spec.precision"},
  };
  for (const BadSpec& bad : cases) {
    ft::v1::JobSpec spec = TinySpec(csv, 2);
    bad.mutate(spec, dir.path().string());
    ft::v1::SubmitJobResponse response;
    const grpc::Status status = Submit(ftd, spec, "", &response);
    EXPECT_EQ(status.error_code(), bad.code) << bad.name << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(bad.message_part), std::string::npos)
        << bad.name << ": " << status.error_message();
  }
  // Nothing was queued, and the daemon still accepts a good job.
  grpc::ClientContext context;
  ft::v1::ListJobsResponse list;
  ASSERT_TRUE(ftd.stub().ListJobs(&context, ft::v1::ListJobsRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), 0);
  ft::v1::SubmitJobResponse response;
  EXPECT_TRUE(Submit(ftd, TinySpec(csv, 2), "", &response).ok());
}

TEST(SubmitValidationTest, MalformedRowFailsTheJobWithFileAndLine) {
  // The header is fine (so SubmitJob accepts it); row 3 is broken: the job fails and says where.
  TempDir dir;
  const std::string csv = dir.Path("bad_row.csv");
  std::ofstream(csv) << "text,label\n\"good one\",1\n\"broken,0\n";
  FtdProcess ftd(FtdProcessOptions{dir.Path("home")});
  ftd.Start();
  ft::v1::SubmitJobResponse response;
  ASSERT_TRUE(Submit(ftd, TinySpec(csv, 2), "", &response).ok());
  const ft::v1::Job job = WaitFor(ftd, response.job().id(), [](const ft::v1::Job& j) {
    return j.state() == ft::v1::FAILED || j.state() == ft::v1::SUCCEEDED;
  });
  EXPECT_EQ(job.state(), ft::v1::FAILED);
  EXPECT_NE(job.error().find("bad_row.csv:3"), std::string::npos) << job.error();
}

}  // namespace
}  // namespace ft::testing
