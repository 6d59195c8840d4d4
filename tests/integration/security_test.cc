// Security of the real ftd with real workers, over real sockets: bearer tokens on every public
// and worker RPC, each user kept to their own jobs (another's answers NOT_FOUND, admins see all),
// the token file reloaded while serving, data roots against `..` and symlink escapes, job folders
// not world-readable, /metrics and the log without tokens, ftctl with a token, DeleteJob.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/net/ftd_channel.h"
#include "ft/v1/worker_service.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"
#include "tests/support/run_command.h"

namespace ft::testing {
namespace {

namespace fs = std::filesystem;

constexpr char kAlice[] = "alice-7f3a9c1e5b2d8f40";
constexpr char kBob[] = "bob-0c4e8a2f6b1d9e37";
constexpr char kAdmin[] = "admin-5d1b7e3a9f2c6e04";
constexpr char kRemoteWorker[] = "worker-2a6e0c4f8b3d7a15";

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[65536];
      ssize_t n;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Path("data/toy.csv");
    fs::create_directories(dir_.Path("data"));
    WriteToyCsv(csv_, 64, 3);
    WriteTokens(std::string(kAlice) + " alice user\n" + kBob + " bob user\n" + kAdmin +
                " root admin\n" + kRemoteWorker + " box-1 worker\n");
    FtdProcessOptions options;
    options.home = dir_.Path("home");
    options.token_file = dir_.Path("tokens");
    options.client_token = kAlice;
    options.data_roots = {dir_.Path("data")};
    ftd_ = std::make_unique<FtdProcess>(options);
    ftd_->Start();
  }

  void WriteTokens(const std::string& text) {
    std::ofstream(dir_.Path("tokens.new")) << text;
    fs::rename(dir_.Path("tokens.new"), dir_.Path("tokens"));
  }

  std::string SubmitAs(const std::string& token, const ft::v1::JobSpec& spec,
                       grpc::Status* status_out = nullptr, const std::string& request_id = "") {
    grpc::ClientContext context;
    ft::v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    request.set_request_id(request_id);
    ft::v1::SubmitJobResponse response;
    const grpc::Status status = ftd_->StubWithToken(token)->SubmitJob(&context, request, &response);
    if (status_out != nullptr) *status_out = status;
    return response.job().id();
  }

  std::unique_ptr<ft::v1::WorkerService::Stub> WorkerStub(const std::string& token) {
    net::ChannelSecurity security;
    security.token = token;
    return ft::v1::WorkerService::NewStub(*net::MakeChannel(ftd_->address(), security));
  }

  TempDir dir_;
  std::string csv_;
  std::unique_ptr<FtdProcess> ftd_;
};

// Every public RPC through `stub` on `job_id` (SubmitJob unless !submit); each status code.
std::vector<std::pair<std::string, grpc::StatusCode>> CallEveryPublicRpc(
    ft::v1::FinetuneService::Stub& stub, const std::string& job_id, const ft::v1::JobSpec& spec,
    bool submit = true) {
  std::vector<std::pair<std::string, grpc::StatusCode>> codes;
  if (submit) {
    grpc::ClientContext context;
    ft::v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    ft::v1::SubmitJobResponse response;
    codes.emplace_back("SubmitJob", stub.SubmitJob(&context, request, &response).error_code());
  }
  {
    grpc::ClientContext context;
    ft::v1::GetJobRequest request;
    request.set_job_id(job_id);
    ft::v1::Job job;
    codes.emplace_back("GetJob", stub.GetJob(&context, request, &job).error_code());
  }
  {
    grpc::ClientContext context;
    ft::v1::ListJobsResponse response;
    codes.emplace_back("ListJobs", stub.ListJobs(&context, {}, &response).error_code());
  }
  {
    grpc::ClientContext context;
    ft::v1::CancelJobRequest request;
    request.set_job_id(job_id);
    ft::v1::Job job;
    codes.emplace_back("CancelJob", stub.CancelJob(&context, request, &job).error_code());
  }
  {
    grpc::ClientContext context;
    ft::v1::DeleteJobRequest request;
    request.set_job_id(job_id);
    ft::v1::DeleteJobResponse response;
    codes.emplace_back("DeleteJob", stub.DeleteJob(&context, request, &response).error_code());
  }
  {
    grpc::ClientContext context;
    ft::v1::WatchJobRequest request;
    request.set_job_id(job_id);
    auto reader = stub.WatchJob(&context, request);
    ft::v1::JobEvent event;
    while (reader->Read(&event)) {
    }
    codes.emplace_back("WatchJob", reader->Finish().error_code());
  }
  return codes;
}

TEST_F(SecurityTest, EveryRpcNeedsAValidTokenOfTheRightRole) {
  // Before any job is queued, so that the remote-worker call below leases nothing.
  {
    ft::v1::AcquireJobRequest request;
    request.set_worker_id("remote-1");
    struct Case {
      std::string token;
      grpc::StatusCode code;
    };
    for (const Case& c : std::vector<Case>{{"", grpc::UNAUTHENTICATED},
                                           {"not-a-token-at-all-000", grpc::UNAUTHENTICATED},
                                           {kAlice, grpc::PERMISSION_DENIED},
                                           {kAdmin, grpc::PERMISSION_DENIED},
                                           {kRemoteWorker, grpc::OK}}) {
      grpc::ClientContext context;
      ft::v1::AcquireJobResponse response;
      const grpc::Status status = WorkerStub(c.token)->AcquireJob(&context, request, &response);
      EXPECT_EQ(status.error_code(), c.code)
          << "AcquireJob with '" << c.token << "': " << status.error_message();
      EXPECT_FALSE(response.has_job());
    }
    grpc::ClientContext context;
    ft::v1::HeartbeatRequest heartbeat;
    ft::v1::HeartbeatResponse response;
    EXPECT_EQ(WorkerStub("")->Heartbeat(&context, heartbeat, &response).error_code(),
              grpc::UNAUTHENTICATED);
  }

  grpc::Status status;
  const std::string job = SubmitAs(kAlice, TinySpec(csv_, 2), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The job trains on the local worker, which authenticated with the daemon's own secret.
  const ft::v1::Job done =
      WaitFor(*ftd_, job, [](const ft::v1::Job& j) { return j.state() == ft::v1::SUCCEEDED; });
  EXPECT_EQ(done.state(), ft::v1::SUCCEEDED) << done.error();
  EXPECT_EQ(done.owner(), "alice");

  struct Caller {
    std::string token;
    grpc::StatusCode code;
  };
  for (const Caller& caller : std::vector<Caller>{{"", grpc::UNAUTHENTICATED},
                                                  {"wrong-token-0123456789", grpc::UNAUTHENTICATED},
                                                  {kRemoteWorker, grpc::PERMISSION_DENIED}}) {
    for (const auto& [rpc, code] :
         CallEveryPublicRpc(*ftd_->StubWithToken(caller.token), job, TinySpec(csv_, 2))) {
      EXPECT_EQ(code, caller.code) << rpc << " with '" << caller.token << "'";
    }
  }
  // Nothing those calls tried happened.
  EXPECT_EQ(GetJob(*ftd_, job).state(), ft::v1::SUCCEEDED);

  // The token never reaches /metrics or the log.
  const std::string metrics = HttpGet(ftd_->metrics_port(), "/metrics");
  EXPECT_NE(metrics.find("ft_home_disk_bytes"), std::string::npos) << metrics.substr(0, 500);
  const std::string log = ftd_->Log() + ReadAll(dir_.Path("home/workers/local-0.log"));
  for (const char* token : {kAlice, kBob, kAdmin, kRemoteWorker}) {
    EXPECT_EQ(metrics.find(token), std::string::npos) << token;
    EXPECT_EQ(log.find(token), std::string::npos) << token;
  }
  // The job's folder is not world-readable.
  struct stat st;
  ASSERT_EQ(stat(done.output_dir().c_str(), &st), 0) << done.output_dir();
  EXPECT_EQ(st.st_mode & 007, 0) << std::oct << st.st_mode;
  ASSERT_EQ(stat((done.output_dir() + "/result.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 007, 0) << std::oct << st.st_mode;
}

TEST_F(SecurityTest, UsersSeeOnlyTheirOwnJobsAndAdminsSeeAll) {
  ft::v1::JobSpec spec = TinySpec(csv_, 0);
  spec.set_epochs(500);  // runs until cancelled
  grpc::Status status;
  const std::string alice_job = SubmitAs(kAlice, spec, &status, "same-request-id");
  ASSERT_TRUE(status.ok()) << status.error_message();
  // The same request id from another user is another job, not alice's.
  const std::string bob_job = SubmitAs(kBob, spec, &status, "same-request-id");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(alice_job, bob_job);

  // Bob, on alice's job: NOT_FOUND everywhere, worded as for a job that does not exist.
  auto bob = ftd_->StubWithToken(kBob);
  for (const auto& [rpc, code] : CallEveryPublicRpc(*bob, alice_job, TinySpec(csv_, 2), false)) {
    if (rpc == "ListJobs") continue;
    EXPECT_EQ(code, grpc::NOT_FOUND) << rpc;
  }
  grpc::ClientContext context;
  ft::v1::GetJobRequest get;
  get.set_job_id(alice_job);
  ft::v1::Job job;
  const grpc::Status not_found = bob->GetJob(&context, get, &job);
  grpc::ClientContext context2;
  get.set_job_id("job-999999");
  const grpc::Status unknown = bob->GetJob(&context2, get, &job);
  EXPECT_EQ(not_found.error_message(),
            "no job with id '" + alice_job + "'");  // the same words as for an unknown one
  EXPECT_EQ(unknown.error_message(), "no job with id 'job-999999'");
  // Alice's job still runs: bob's cancel did nothing.
  EXPECT_NE(GetJob(*ftd_, alice_job).state(), ft::v1::CANCELLED);

  auto list = [&](const std::string& token) {
    grpc::ClientContext list_context;
    ft::v1::ListJobsResponse response;
    EXPECT_TRUE(ftd_->StubWithToken(token)->ListJobs(&list_context, {}, &response).ok());
    std::set<std::string> ids;
    for (const auto& j : response.jobs()) ids.insert(j.id());
    return ids;
  };
  EXPECT_EQ(list(kAlice), std::set<std::string>{alice_job});
  EXPECT_EQ(list(kBob), std::set<std::string>{bob_job});
  EXPECT_EQ(list(kAdmin), (std::set<std::string>{alice_job, bob_job}));

  // The admin cancels and deletes bob's job; bob's ftctl then finds it gone.
  auto admin = ftd_->StubWithToken(kAdmin);
  {
    grpc::ClientContext cancel_context;
    ft::v1::CancelJobRequest cancel;
    cancel.set_job_id(bob_job);
    ASSERT_TRUE(admin->CancelJob(&cancel_context, cancel, &job).ok());
  }
  // Alice's own cancel, then DeleteJob through ftctl with her token from $FTD_TOKEN.
  const std::string ftctl = BinaryPath("ftctl");
  const std::string server = ftd_->address();
  CommandResult result = RunCommand(
      {"env", std::string("FTD_TOKEN=") + kAlice, ftctl, "--server", server, "delete", alice_job});
  EXPECT_EQ(result.exit_status, 6) << result.output;  // still running: FAILED_PRECONDITION
  EXPECT_NE(result.output.find("FAILED_PRECONDITION"), std::string::npos) << result.output;
  result = RunCommand(
      {"env", std::string("FTD_TOKEN=") + kAlice, ftctl, "--server", server, "cancel", alice_job});
  EXPECT_EQ(result.exit_status, 0) << result.output;
  const ft::v1::Job ended = WaitFor(
      *ftd_, alice_job, [](const ft::v1::Job& j) { return j.state() == ft::v1::CANCELLED; });
  ASSERT_TRUE(fs::exists(ended.output_dir()));
  result = RunCommand(
      {"env", std::string("FTD_TOKEN=") + kBob, ftctl, "--server", server, "delete", alice_job});
  EXPECT_EQ(result.exit_status, 3) << result.output;  // NOT_FOUND for bob
  EXPECT_TRUE(fs::exists(ended.output_dir()));
  result = RunCommand(
      {"env", std::string("FTD_TOKEN=") + kAlice, ftctl, "--server", server, "delete", alice_job});
  EXPECT_EQ(result.exit_status, 0) << result.output;
  EXPECT_NE(result.output.find("deleted"), std::string::npos) << result.output;
  EXPECT_FALSE(fs::exists(ended.output_dir()));
  result = RunCommand({ftctl, "--server", server, "list"});  // no token at all
  EXPECT_NE(result.exit_status, 0) << result.output;
  EXPECT_NE(result.output.find("UNAUTHENTICATED"), std::string::npos) << result.output;

  grpc::ClientContext gone_context;
  get.set_job_id(alice_job);
  EXPECT_EQ(admin->GetJob(&gone_context, get, &job).error_code(), grpc::NOT_FOUND);
  // Bob's job, cancelled by the admin while queued, is deleted by the admin.
  grpc::ClientContext admin_delete_context;
  ft::v1::DeleteJobRequest delete_request;
  delete_request.set_job_id(bob_job);
  ft::v1::DeleteJobResponse deleted;
  const grpc::Status admin_delete =
      admin->DeleteJob(&admin_delete_context, delete_request, &deleted);
  EXPECT_TRUE(admin_delete.ok()) << admin_delete.error_message();
  EXPECT_TRUE(list(kAdmin).empty());
}

TEST_F(SecurityTest, TheTokenFileIsReloadedWhileServing) {
  auto carol = ftd_->StubWithToken("carol-1e5a9d3c7b0f2e68");
  auto list_code = [](ft::v1::FinetuneService::Stub& stub) {
    grpc::ClientContext context;
    ft::v1::ListJobsResponse response;
    return stub.ListJobs(&context, {}, &response).error_code();
  };
  EXPECT_EQ(list_code(*carol), grpc::UNAUTHENTICATED);
  WriteTokens(std::string(kBob) + " bob user\ncarol-1e5a9d3c7b0f2e68 carol user\n");
  auto alice = ftd_->StubWithToken(kAlice);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (list_code(*carol) != grpc::OK && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(list_code(*carol), grpc::OK);
  EXPECT_EQ(list_code(*alice), grpc::UNAUTHENTICATED);  // removed from the file

  // A broken file keeps the tokens in force (once ftd has read and refused it).
  WriteTokens("carol-1e5a9d3c7b0f2e68 carol emperor\n");
  kill(ftd_->pid(), SIGHUP);
  const auto refused_by = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ftd_->Log().find("token file not reloaded") == std::string::npos &&
         std::chrono::steady_clock::now() < refused_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(ftd_->Log().find("token file not reloaded"), std::string::npos);
  EXPECT_EQ(list_code(*carol), grpc::OK);
  // A fixed file, announced by SIGHUP.
  WriteTokens(std::string(kAlice) + " alice user\n");
  kill(ftd_->pid(), SIGHUP);
  const auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (list_code(*alice) != grpc::OK && std::chrono::steady_clock::now() < deadline2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(list_code(*alice), grpc::OK);
  EXPECT_EQ(list_code(*carol), grpc::UNAUTHENTICATED);
}

TEST_F(SecurityTest, PathsOutsideTheDataRootsAreRefusedBeforeAnyFileIsRead) {
  dir_.Write("outside/secret.csv", "text,label\nTOP-SECRET-LINE,1\n");
  fs::create_symlink(dir_.Path("outside/secret.csv"), dir_.Path("data/link.csv"));
  fs::create_symlink(dir_.Path("outside"), dir_.Path("data/linkdir"));
  fs::create_directories(dir_.Path("data/folder"));
  struct Case {
    std::string train;
    grpc::StatusCode code;
  };
  const std::vector<Case> cases = {
      {dir_.Path("data/../outside/secret.csv"), grpc::PERMISSION_DENIED},
      {dir_.Path("data/link.csv"), grpc::PERMISSION_DENIED},
      {dir_.Path("data/linkdir/secret.csv"), grpc::PERMISSION_DENIED},
      {dir_.Path("outside/secret.csv"), grpc::PERMISSION_DENIED},
      {"/etc/passwd", grpc::PERMISSION_DENIED},
      {"/etc/shadow-not-there", grpc::PERMISSION_DENIED},
      {dir_.Path("data/missing.csv"), grpc::NOT_FOUND},
      {dir_.Path("data/folder"), grpc::INVALID_ARGUMENT},  // a folder instead of a CSV file
  };
  for (const Case& c : cases) {
    ft::v1::JobSpec spec = TinySpec(c.train, 2);
    spec.mutable_dataset()->set_format("csv");
    grpc::Status status;
    SubmitAs(kAlice, spec, &status);
    EXPECT_EQ(status.error_code(), c.code) << c.train << ": " << status.error_message();
    EXPECT_NE(status.error_message().find("spec.dataset.train"), std::string::npos)
        << status.error_message();
    EXPECT_EQ(status.error_message().find("TOP-SECRET"), std::string::npos);
    EXPECT_EQ(status.error_message().find("root:"), std::string::npos);
  }
  // The daemon is fine and a path inside works.
  grpc::Status status;
  SubmitAs(kAlice, TinySpec(csv_, 1), &status);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// A remote ftworker (not ftd's child) with a worker token from --token-file trains a job; one
// with a user's token is refused and leases nothing.
TEST_F(SecurityTest, RemoteWorkersNeedAWorkerToken) {
  FtdProcessOptions options = ftd_->options();
  ftd_.reset();
  options.local_workers = 0;
  ftd_ = std::make_unique<FtdProcess>(options);
  ftd_->Start();
  grpc::Status status;
  const std::string job = SubmitAs(kAlice, TinySpec(csv_, 2), &status);
  ASSERT_TRUE(status.ok()) << status.error_message();

  auto spawn = [&](const std::string& token, const std::string& name) {
    std::ofstream(dir_.Path(name + ".token")) << token << "\n";
    const std::string log = dir_.Path(name + ".log");
    std::vector<std::string> args = {BinaryPath("ftworker"), "--server",  ftd_->address(),
                                     "--worker-id",          name,        "--threads",
                                     "1",                    "--token-file", dir_.Path(name + ".token")};
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  };
  const pid_t impostor = spawn(kAlice, "impostor");
  const auto refused_by = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ReadAll(dir_.Path("impostor.log")).find("worker API needs") == std::string::npos &&
         std::chrono::steady_clock::now() < refused_by) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_NE(ReadAll(dir_.Path("impostor.log")).find("worker API needs"), std::string::npos)
      << ReadAll(dir_.Path("impostor.log"));
  EXPECT_EQ(GetJob(*ftd_, job).state(), ft::v1::QUEUED);
  kill(impostor, SIGKILL);
  waitpid(impostor, nullptr, 0);

  const pid_t worker = spawn(kRemoteWorker, "box-1");
  const ft::v1::Job done =
      WaitFor(*ftd_, job, [](const ft::v1::Job& j) { return j.state() == ft::v1::SUCCEEDED; });
  EXPECT_EQ(done.state(), ft::v1::SUCCEEDED) << ReadAll(dir_.Path("box-1.log"));
  EXPECT_EQ(done.worker_id(), "box-1");
  kill(worker, SIGKILL);
  waitpid(worker, nullptr, 0);
}

}  // namespace
}  // namespace ft::testing
