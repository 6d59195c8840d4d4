// Test support: runs the real ftd (with its real ftworker children) as a child process in its
// own process group, on free ports, and talks to it over real gRPC.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ft/v1/finetune_service.grpc.pb.h"
#include "tests/support/temp_dir.h"

namespace ft::testing {

struct FtdProcessOptions {
  std::string home;  // required
  int local_workers = 1;
  std::vector<std::string> extra_args = {};
  // Empty: ftd runs with --insecure-no-auth. Else --token-file, and stub() sends client_token.
  std::string token_file = {};
  std::string client_token = {};
  // Empty: the folder that holds `home` (tests keep their data beside it) and ../shared/data.
  std::vector<std::string> data_roots = {};
  // The API address; port 0 picks a free one (then port() tells which). A fixed port lets a
  // restarted ftd keep the address its clients use (FreeTcpPort()).
  std::string listen = "127.0.0.1:0";
};

// The ftd command line for `options` with its port file at `port_file`: the one place that
// builds it, so that flags every test needs are added here.
std::vector<std::string> FtdCommandLine(const FtdProcessOptions& options,
                                        const std::string& port_file);

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreeTcpPort();

class FtdProcess {
 public:
  explicit FtdProcess(FtdProcessOptions options);
  ~FtdProcess();  // kills the whole process group

  // Starts ftd and waits until it serves (port file written). Fails the test on timeout.
  void Start();
  // Sends `sig` to ftd alone (its workers die through PDEATHSIG) and reaps it.
  void Kill(int sig);
  // Kills the whole process group with SIGKILL and reaps ftd.
  void KillGroup();

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  std::string address() const;
  ft::v1::FinetuneService::Stub& stub() { return *stub_; }
  // A stub that sends `token` (empty: no authorization header).
  std::unique_ptr<ft::v1::FinetuneService::Stub> StubWithToken(const std::string& token) const;
  const FtdProcessOptions& options() const { return options_; }
  // ftd's own log (stdout+stderr), for failure messages.
  std::string Log() const;
  // Pids of ftd's direct children (the local workers).
  std::vector<pid_t> ChildPids() const;

 private:
  FtdProcessOptions options_;
  pid_t pid_ = 0;
  int port_ = 0;
  int metrics_port_ = 0;
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub_;
};

// Path of a built executable (FT_BIN_DIR/name).
std::string BinaryPath(const std::string& name);
// Shared data root, or "" when ../shared/data is absent.
std::string SharedDataDir();

// Writes a small, learnable sentiment CSV (`text,label`) with n rows: positive rows use positive
// words, negative rows negative ones, so a tiny model learns it in a few steps.
void WriteToyCsv(const std::string& path, int rows, uint64_t seed);

// A spec for scratch:bloom-tiny on `train_csv` with bounded steps.
ft::v1::JobSpec TinySpec(const std::string& train_csv, uint32_t max_steps);

// Unary call helpers with a 10 s deadline.
grpc::Status Submit(FtdProcess& ftd, const ft::v1::JobSpec& spec, const std::string& request_id,
                    ft::v1::SubmitJobResponse* response);
ft::v1::Job GetJob(FtdProcess& ftd, const std::string& job_id);
// Polls GetJob until `done(job)` or the timeout; returns the last job seen.
ft::v1::Job WaitFor(FtdProcess& ftd, const std::string& job_id,
                    const std::function<bool(const ft::v1::Job&)>& done,
                    std::chrono::seconds timeout = std::chrono::seconds(60));
// SUCCEEDED, FAILED or CANCELLED.
bool IsFinished(const ft::v1::Job& job);
// Waits until `reached(job)` with the job's worker (`worker`, a pid of ChildPids()) held still, so
// that a test can act on a job that is still running however fast the model trains: the worker
// runs in slices of 2 ms and is stopped (SIGSTOP) while the job is read. Returns the last job seen
// with the worker stopped; the caller SIGKILLs it, or sends SIGCONT (SIGTERM first, if it is to
// be delivered as soon as the worker runs). Fails the test if the job ends first or on timeout.
ft::v1::Job WaitWithWorkerHeld(FtdProcess& ftd, pid_t worker, const std::string& job_id,
                               const std::function<bool(const ft::v1::Job&)>& reached,
                               std::chrono::seconds timeout = std::chrono::seconds(60));
// The whole file's bytes ("" when it cannot be read).
std::string ReadFileBytes(const std::string& path);
// Runs `spec` once more, uninterrupted, and expects its model.safetensors to equal, byte for byte,
// that of `resumed` (a job of the same spec that was interrupted and resumed).
void ExpectSameModelAsUninterruptedRun(FtdProcess& ftd, const ft::v1::Job& resumed,
                                       const ft::v1::JobSpec& spec);

// Reads the WatchJob stream to its end (or the timeout) and returns every event.
std::vector<ft::v1::JobEvent> WatchAll(FtdProcess& ftd, const std::string& job_id,
                                       uint64_t after_seq = 0,
                                       std::chrono::seconds timeout = std::chrono::seconds(90),
                                       grpc::Status* final_status = nullptr);

}  // namespace ft::testing
