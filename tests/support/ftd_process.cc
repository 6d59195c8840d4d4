#include "tests/support/ftd_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "common/net/ftd_channel.h"
#include "gtest/gtest.h"

namespace ft::testing {
namespace fs = std::filesystem;

std::string BinaryPath(const std::string& name) {
  const char* dir = std::getenv("FT_BIN_DIR");
  return std::string(dir ? dir : "bin") + "/" + name;
}

std::string SharedDataDir() {
  const char* dir = std::getenv("FT_SHARED_DATA");
  if (dir == nullptr || !fs::is_directory(dir)) return "";
  return dir;
}

FtdProcess::FtdProcess(FtdProcessOptions options) : options_(std::move(options)) {}

FtdProcess::~FtdProcess() { KillGroup(); }

std::string FtdProcess::address() const { return "127.0.0.1:" + std::to_string(port_); }

std::vector<std::string> FtdCommandLine(const FtdProcessOptions& options,
                                        const std::string& port_file) {
  std::vector<std::string> args = {BinaryPath("ftd"),
                                   "--listen",
                                   options.listen,
                                   "--metrics-listen",
                                   "127.0.0.1:0",
                                   "--home",
                                   options.home,
                                   "--port-file",
                                   port_file,
                                   "--local-workers",
                                   std::to_string(options.local_workers),
                                   "--worker-threads",
                                   "1",
                                   "--log-level",
                                   "debug"};
  if (options.token_file.empty()) {
    args.push_back("--insecure-no-auth");
  } else {
    args.push_back("--token-file");
    args.push_back(options.token_file);
  }
  std::vector<std::string> roots = options.data_roots;
  if (roots.empty()) {
    roots.push_back(fs::absolute(options.home).parent_path().string());
    if (!SharedDataDir().empty()) roots.push_back(SharedDataDir());
  }
  for (const std::string& root : roots) {
    args.push_back("--data-root");
    args.push_back(root);
  }
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  return args;
}

int FreeTcpPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

void FtdProcess::Start() {
  const std::string port_file = options_.home + "/ports";
  fs::remove(port_file);
  std::vector<std::string> args = FtdCommandLine(options_, port_file);
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  fs::create_directories(options_.home);
  const std::string log = options_.home + "/ftd.log";
  const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_ = fork();
  if (pid_ == 0) {
    setpgid(0, 0);  // its own group, so that teardown kills ftd and its workers together
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fd);
  setpgid(pid_, pid_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    if (in >> port_ >> metrics_port_) break;
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = 0;
      FAIL() << "ftd exited during start; log:\n" << Log();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GT(port_, 0) << "ftd did not start in 20 s; log:\n" << Log();
  stub_ = StubWithToken(options_.client_token);
}

std::unique_ptr<ft::v1::FinetuneService::Stub> FtdProcess::StubWithToken(
    const std::string& token) const {
  net::ChannelSecurity security;
  security.token = token;
  return ft::v1::FinetuneService::NewStub(*net::MakeChannel(address(), security));
}

void FtdProcess::Kill(int sig) {
  if (pid_ <= 0) return;
  kill(pid_, sig);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = 0;
}

void FtdProcess::KillGroup() {
  if (pid_ <= 0) return;
  kill(-pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = 0;
}

std::string FtdProcess::Log() const {
  std::ifstream in(options_.home + "/ftd.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<pid_t> FtdProcess::ChildPids() const {
  std::vector<pid_t> pids;
  const fs::path tasks = "/proc/" + std::to_string(pid_) + "/task";
  std::error_code error;
  for (const auto& task : fs::directory_iterator(tasks, error)) {
    std::ifstream in(task.path() / "children");
    pid_t pid;
    while (in >> pid) pids.push_back(pid);
  }
  return pids;
}

void WriteToyCsv(const std::string& path, int rows, uint64_t seed) {
  static const char* kGood[] = {"great", "wonderful", "loved", "superb", "delightful", "moving"};
  static const char* kBad[] = {"awful", "boring", "hated", "dull", "terrible", "painful"};
  static const char* kFiller[] = {"the", "movie", "was", "plot", "acting", "really", "quite"};
  std::mt19937_64 random(seed);
  std::ofstream out(path);
  out << "text,label\n";
  for (int i = 0; i < rows; ++i) {
    const int label = i % 2;
    std::string text;
    for (int w = 0; w < 6; ++w) {
      const char* word =
          (w % 3 == 1) ? (label ? kGood[random() % 6] : kBad[random() % 6]) : kFiller[random() % 7];
      text += (w ? " " : "") + std::string(word);
    }
    out << '"' << text << "\"," << label << "\n";
  }
}

ft::v1::JobSpec TinySpec(const std::string& train_csv, uint32_t max_steps) {
  ft::v1::JobSpec spec;
  spec.set_model("scratch:bloom-tiny");
  spec.mutable_dataset()->set_train(train_csv);
  spec.mutable_dataset()->set_validation_fraction(0.25);
  spec.set_micro_batch_size(4);
  spec.set_accumulation_steps(2);
  spec.set_epochs(1);
  spec.set_max_steps(max_steps);
  spec.set_max_seq_length(64);
  spec.set_log_every_steps(1);
  spec.set_seed(7);
  return spec;
}

namespace {
void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
}
}  // namespace

grpc::Status Submit(FtdProcess& ftd, const ft::v1::JobSpec& spec, const std::string& request_id,
                    ft::v1::SubmitJobResponse* response) {
  grpc::ClientContext context;
  SetDeadline(context);
  ft::v1::SubmitJobRequest request;
  *request.mutable_spec() = spec;
  request.set_request_id(request_id);
  return ftd.stub().SubmitJob(&context, request, response);
}

ft::v1::Job GetJob(FtdProcess& ftd, const std::string& job_id) {
  grpc::ClientContext context;
  SetDeadline(context);
  ft::v1::GetJobRequest request;
  request.set_job_id(job_id);
  ft::v1::Job job;
  const grpc::Status status = ftd.stub().GetJob(&context, request, &job);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return job;
}

ft::v1::Job WaitFor(FtdProcess& ftd, const std::string& job_id,
                    const std::function<bool(const ft::v1::Job&)>& done,
                    std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ft::v1::Job job;
  while (std::chrono::steady_clock::now() < deadline) {
    job = GetJob(ftd, job_id);
    if (done(job)) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "timed out waiting for " << job_id << "; last state "
                << ft::v1::JobState_Name(job.state()) << "; ftd log:\n"
                << ftd.Log();
  return job;
}

ft::v1::Job WaitWithWorkerHeld(FtdProcess& ftd, pid_t worker, const std::string& job_id,
                               const std::function<bool(const ft::v1::Job&)>& reached,
                               std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  ft::v1::Job job;
  while (std::chrono::steady_clock::now() < deadline) {
    kill(worker, SIGSTOP);
    // The state read now cannot move on until the worker runs again. A progress report it has
    // sent but ftd not yet stored only makes the job look behind where it is.
    job = GetJob(ftd, job_id);
    if (IsFinished(job)) break;
    if (reached(job)) return job;
    kill(worker, SIGCONT);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(worker, SIGCONT);
  ADD_FAILURE() << "job " << job_id << " is " << ft::v1::JobState_Name(job.state()) << " at step "
                << job.progress().step() << " before the test could act on it; ftd log:\n"
                << ftd.Log();
  return job;
}

bool IsFinished(const ft::v1::Job& job) {
  return job.state() == ft::v1::SUCCEEDED || job.state() == ft::v1::FAILED ||
         job.state() == ft::v1::CANCELLED;
}

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void ExpectSameModelAsUninterruptedRun(FtdProcess& ftd, const ft::v1::Job& resumed,
                                       const ft::v1::JobSpec& spec) {
  ft::v1::SubmitJobResponse response;
  ASSERT_TRUE(Submit(ftd, spec, "uninterrupted-" + resumed.id(), &response).ok());
  const ft::v1::Job whole = WaitFor(ftd, response.job().id(), IsFinished);
  ASSERT_EQ(whole.state(), ft::v1::SUCCEEDED) << whole.error();
  ASSERT_NE(whole.output_dir(), resumed.output_dir());
  const std::string expected = ReadFileBytes(whole.output_dir() + "/model.safetensors");
  ASSERT_FALSE(expected.empty());
  EXPECT_TRUE(ReadFileBytes(resumed.output_dir() + "/model.safetensors") == expected)
      << "the resumed job's parameters differ from the uninterrupted job's";
}

std::vector<ft::v1::JobEvent> WatchAll(FtdProcess& ftd, const std::string& job_id,
                                       uint64_t after_seq, std::chrono::seconds timeout,
                                       grpc::Status* final_status) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  ft::v1::WatchJobRequest request;
  request.set_job_id(job_id);
  request.set_after_seq(after_seq);
  auto reader = ftd.stub().WatchJob(&context, request);
  std::vector<ft::v1::JobEvent> events;
  ft::v1::JobEvent event;
  while (reader->Read(&event)) events.push_back(event);
  const grpc::Status status = reader->Finish();
  if (final_status != nullptr) *final_status = status;
  return events;
}

}  // namespace ft::testing
