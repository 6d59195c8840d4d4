// The real ftd over TLS (certificates made with the openssl CLI at test time, client certificates
// too), its resource limits (each refusal RESOURCE_EXHAUSTED naming the flag), retention of ended
// jobs, and the start-up refusals of unsafe or unclear security settings.
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/net/ftd_channel.h"
#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"
#include "tests/support/run_command.h"

namespace ft::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kAlice[] = "alice-7f3a9c1e5b2d8f40";
constexpr char kBob[] = "bob-0c4e8a2f6b1d9e37";

std::unique_ptr<ft::v1::FinetuneService::Stub> Stub(const std::string& address,
                                                    const net::ChannelSecurity& security) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = net::MakeChannel(address, security);
  EXPECT_TRUE(channel.ok()) << channel.status();
  return ft::v1::FinetuneService::NewStub(*channel);
}

grpc::Status ListWith(ft::v1::FinetuneService::Stub& stub) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  ft::v1::ListJobsResponse response;
  return stub.ListJobs(&context, {}, &response);
}

// A CA, a server certificate for localhost and 127.0.0.1, and a client certificate, all signed by
// the CA; plus a second CA that signed nothing here.
void MakeCertificates(const std::string& dir) {
  const std::string script =
      "set -e; cd '" + dir +
      "'; key='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'\n"
      "openssl req -x509 $key -keyout ca.key -out ca.pem -days 2 -subj /CN=ft-test-ca\n"
      "openssl req -x509 $key -keyout other.key -out other-ca.pem -days 2 -subj /CN=other-ca\n"
      "openssl req $key -keyout server.key -out server.csr -subj /CN=localhost\n"
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext\n"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile san.ext -out server.pem\n"
      "openssl req $key -keyout client.key -out client.csr -subj /CN=alice\n"
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-out client.pem\n";
  const CommandResult result = RunCommand({"sh", "-c", script});
  ASSERT_EQ(result.exit_status, 0) << result.output;
}

TEST(TlsTest, TheApiSpeaksTlsOnlyAndLocalWorkersStillTrain) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(MakeCertificates(dir.path().string()));
  WriteToyCsv(dir.Path("toy.csv"), 64, 5);
  std::ofstream(dir.Path("tokens")) << kAlice << " alice user\n";
  FtdProcessOptions options;
  options.home = dir.Path("home");
  options.token_file = dir.Path("tokens");
  options.extra_args = {"--tls-cert", dir.Path("server.pem"), "--tls-key", dir.Path("server.key")};
  FtdProcess ftd(options);
  ftd.Start();

  net::ChannelSecurity tls;
  tls.token = kAlice;
  tls.tls_ca_file = dir.Path("ca.pem");
  auto stub = Stub(ftd.address(), tls);
  grpc::ClientContext context;
  ft::v1::SubmitJobRequest request;
  *request.mutable_spec() = TinySpec(dir.Path("toy.csv"), 2);
  ft::v1::SubmitJobResponse submitted;
  const grpc::Status status = stub->SubmitJob(&context, request, &submitted);
  ASSERT_TRUE(status.ok()) << status.error_message();

  // Plaintext against the TLS port fails; so do an unknown CA and a missing token.
  net::ChannelSecurity plain;
  plain.token = kAlice;
  EXPECT_EQ(ListWith(*Stub(ftd.address(), plain)).error_code(), grpc::UNAVAILABLE);
  net::ChannelSecurity wrong_ca = tls;
  wrong_ca.tls_ca_file = dir.Path("other-ca.pem");
  EXPECT_EQ(ListWith(*Stub(ftd.address(), wrong_ca)).error_code(), grpc::UNAVAILABLE);
  net::ChannelSecurity no_token = tls;
  no_token.token.clear();
  EXPECT_EQ(ListWith(*Stub(ftd.address(), no_token)).error_code(), grpc::UNAUTHENTICATED);
  // ftctl over TLS.
  CommandResult ftctl =
      RunCommand({"env", std::string("FTD_TOKEN=") + kAlice, BinaryPath("ftctl"), "--server",
                  ftd.address(), "--tls-ca", dir.Path("ca.pem"), "get", submitted.job().id()});
  EXPECT_EQ(ftctl.exit_status, 0) << ftctl.output;

  // The local worker reaches ftd through its unix socket and trains the job.
  ft::v1::Job job;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext get_context;
    ft::v1::GetJobRequest get;
    get.set_job_id(submitted.job().id());
    ASSERT_TRUE(stub->GetJob(&get_context, get, &job).ok());
    if (job.state() == ft::v1::SUCCEEDED || job.state() == ft::v1::FAILED) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(job.state(), ft::v1::SUCCEEDED) << job.error() << "\n" << ftd.Log();
}

TEST(TlsTest, AClientCaRequiresClientCertificates) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(MakeCertificates(dir.path().string()));
  std::ofstream(dir.Path("tokens")) << kAlice << " alice user\n";
  FtdProcessOptions options;
  options.home = dir.Path("home");
  options.local_workers = 0;
  options.token_file = dir.Path("tokens");
  options.extra_args = {"--tls-cert",           dir.Path("server.pem"), "--tls-key",
                        dir.Path("server.key"), "--tls-client-ca",      dir.Path("ca.pem")};
  FtdProcess ftd(options);
  ftd.Start();
  net::ChannelSecurity tls;
  tls.token = kAlice;
  tls.tls_ca_file = dir.Path("ca.pem");
  EXPECT_EQ(ListWith(*Stub(ftd.address(), tls)).error_code(), grpc::UNAVAILABLE);
  tls.tls_cert_file = dir.Path("client.pem");
  tls.tls_key_file = dir.Path("client.key");
  const grpc::Status status = ListWith(*Stub(ftd.address(), tls));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Path("toy.csv");
    WriteToyCsv(csv_, 64, 5);
    std::ofstream(dir_.Path("tokens")) << kAlice << " alice user\n" << kBob << " bob user\n";
    FtdProcessOptions options;
    options.home = dir_.Path("home");
    options.local_workers = 0;  // jobs stay queued
    options.token_file = dir_.Path("tokens");
    options.client_token = kAlice;
    options.extra_args = {"--max-queued-jobs-per-user", "2",      "--max-watchers",         "2",
                          "--max-watchers-per-job",     "1",      "--max-request-bytes",    "2048",
                          "--max-dataset-bytes",        "100000", "--max-seq-length-limit", "128"};
    ftd_ = std::make_unique<FtdProcess>(options);
    ftd_->Start();
  }
  grpc::Status SubmitAs(const std::string& token, const ft::v1::JobSpec& spec,
                        std::string* id = nullptr) {
    grpc::ClientContext context;
    ft::v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    ft::v1::SubmitJobResponse response;
    const grpc::Status status = ftd_->StubWithToken(token)->SubmitJob(&context, request, &response);
    if (id != nullptr) *id = response.job().id();
    return status;
  }
  static void ExpectExhausted(const grpc::Status& status, const std::string& limit) {
    EXPECT_EQ(status.error_code(), grpc::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_NE(status.error_message().find(limit), std::string::npos) << status.error_message();
  }

  TempDir dir_;
  std::string csv_;
  std::unique_ptr<FtdProcess> ftd_;
};

TEST_F(LimitsTest, EachLimitRefusesWithResourceExhaustedNamingIt) {
  ft::v1::JobSpec spec = TinySpec(csv_, 2);
  spec.set_max_seq_length(64);
  std::string first, second, bobs;
  ASSERT_TRUE(SubmitAs(kAlice, spec, &first).ok());
  ASSERT_TRUE(SubmitAs(kAlice, spec, &second).ok());
  ExpectExhausted(SubmitAs(kAlice, spec), "--max-queued-jobs-per-user");
  ASSERT_TRUE(SubmitAs(kBob, spec, &bobs).ok());  // another user's queue

  ft::v1::JobSpec long_sequences = spec;
  long_sequences.set_max_seq_length(256);
  ExpectExhausted(SubmitAs(kBob, long_sequences), "--max-seq-length-limit");
  WriteToyCsv(dir_.Path("big.csv"), 4000, 1);  // ~150 KB
  ExpectExhausted(SubmitAs(kBob, TinySpec(dir_.Path("big.csv"), 2)), "--max-dataset-bytes");
  ft::v1::JobSpec huge_request = spec;
  huge_request.set_display_name(std::string(4000, 'x'));
  const grpc::Status too_big = SubmitAs(kBob, huge_request);
  EXPECT_EQ(too_big.error_code(), grpc::RESOURCE_EXHAUSTED) << too_big.error_message();

  // Watchers: one per job, two in all. A stream on a queued job stays open, so a watch that
  // was let in ends only at its deadline.
  auto watch_until_deadline = [&](const std::string& token, const std::string& job_id) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    ft::v1::WatchJobRequest watch;
    watch.set_job_id(job_id);
    auto reader = ftd_->StubWithToken(token)->WatchJob(&context, watch);
    ft::v1::JobEvent ignored;
    while (reader->Read(&ignored)) {
    }
    return reader->Finish();
  };
  ft::v1::WatchJobRequest request;
  ft::v1::JobEvent event;
  grpc::ClientContext watch_first;
  request.set_job_id(first);
  auto stream = ftd_->stub().WatchJob(&watch_first, request);
  ASSERT_TRUE(stream->Read(&event));  // open: its slot is taken
  ExpectExhausted(watch_until_deadline(kAlice, first), "--max-watchers-per-job");
  grpc::ClientContext watch_second;
  request.set_job_id(second);
  auto stream2 = ftd_->stub().WatchJob(&watch_second, request);
  ASSERT_TRUE(stream2->Read(&event));
  ExpectExhausted(watch_until_deadline(kBob, bobs), "--max-watchers:");
  // A stream that ends frees its slot.
  watch_first.TryCancel();
  while (stream->Read(&event)) {
  }
  stream->Finish();
  grpc::Status status = watch_until_deadline(kBob, bobs);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (status.error_code() == grpc::RESOURCE_EXHAUSTED &&
         std::chrono::steady_clock::now() < deadline) {
    status = watch_until_deadline(kBob, bobs);
  }
  EXPECT_EQ(status.error_code(), grpc::DEADLINE_EXCEEDED) << status.error_message();
  watch_second.TryCancel();
  while (stream2->Read(&event)) {
  }
  stream2->Finish();
}

TEST(RetentionTest, OldEndedJobsAreDeletedPeriodically) {
  TempDir dir;
  WriteToyCsv(dir.Path("toy.csv"), 64, 5);
  FtdProcessOptions options;
  options.home = dir.Path("home");
  options.local_workers = 0;
  options.extra_args = {"--retention-max-jobs", "1", "--retention-interval-seconds", "0.2"};
  FtdProcess ftd(options);
  ftd.Start();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ft::v1::SubmitJobResponse response;
    ASSERT_TRUE(Submit(ftd, TinySpec(dir.Path("toy.csv"), 2), "", &response).ok());
    ids.push_back(response.job().id());
    grpc::ClientContext context;
    ft::v1::CancelJobRequest cancel;
    cancel.set_job_id(response.job().id());
    ft::v1::Job job;
    ASSERT_TRUE(ftd.stub().CancelJob(&context, cancel, &job).ok());
    // Distinct end times (second resolution is not assumed; the order is creation's anyway).
  }
  auto listed = [&] {
    grpc::ClientContext context;
    ft::v1::ListJobsResponse response;
    EXPECT_TRUE(ftd.stub().ListJobs(&context, {}, &response).ok());
    std::set<std::string> set;
    for (const auto& job : response.jobs()) set.insert(job.id());
    return set;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (listed().size() > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(listed(), std::set<std::string>{ids[2]});
  EXPECT_FALSE(fs::exists(dir.Path("home/jobs/" + ids[0])));
  EXPECT_TRUE(fs::exists(dir.Path("home/jobs/" + ids[2] + "/events.jsonl")));
}

TEST(StartupTest, UnsafeOrUnclearSecuritySettingsAreRefused) {
  TempDir dir;
  const std::string ftd = BinaryPath("ftd");
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{}, "--token-file"},
      {{"--insecure-no-auth", "--listen", "0.0.0.0:0"}, "loopback"},
      {{"--insecure-no-auth", "--data-root", dir.Path("none")}, "--data-root"},
      {{"--token-file", dir.Path("missing")}, "--token-file"},
      {{"--insecure-no-auth", "--tls-cert", dir.Path("x.pem")}, "--tls-key"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {
        ftd, "--home", dir.Path("home"), "--metrics-listen", "127.0.0.1:0", "--local-workers", "0"};
    if (std::find(c.args.begin(), c.args.end(), "--listen") == c.args.end()) {
      argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
    }
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    const CommandResult result = RunCommand(argv);
    EXPECT_NE(result.exit_status, 0) << result.output;
    EXPECT_NE(result.output.find(c.expected), std::string::npos) << result.output;
  }
}

}  // namespace
}  // namespace ft::testing
