// ft_load: the load test of issue 6 against the real ftd (with its real ftworker) on loopback.
//
// `clients` submitters (each its own channel, user and token) make `submissions` SubmitJob calls
// while `watchers` WatchJob clients (each its own channel) follow the jobs: half of them in pairs
// on the first jobs (which the worker really runs), the rest spread over the others; every fourth
// watcher joins only after the last submission, reads a few events, drops its stream and resumes
// from the last seq it had. After `run_seconds` every job still queued or running is cancelled,
// so every stream ends. Asserts: no RPC error; every watcher received exactly the job's stored
// events (seq 1, 2, ... to the terminal one, compared with a full read after the run); every
// acknowledged job exists and has ended. Prints SubmitJob latency, event delivery lag (receive
// time minus the event's `time`, for events stored after the stream opened), ftd's memory and
// the total time. `--check` also fails the run when the latency bars are missed.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "common/net/ftd_channel.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/load/event_stream_check.h"
#include "tests/load/latency_stats.h"
#include "tests/load/load_options.h"
#include "tests/load/process_memory.h"
#include "tests/support/ftd_process.h"
#include "tests/support/temp_dir.h"

namespace ft::load {
namespace {

using Clock = std::chrono::steady_clock;
using ft::testing::FtdProcess;
using ft::testing::FtdProcessOptions;
using ft::testing::TempDir;

LoadOptions g_options;

double MsSince(Clock::time_point start, Clock::time_point end = Clock::now()) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

std::chrono::system_clock::time_point ToSystemTime(const google::protobuf::Timestamp& time) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(time.seconds()) + std::chrono::nanoseconds(time.nanos())));
}

// A client of its own: a channel that no other client shares (a local subchannel pool, so its
// own TCP connection), sending `token`, connected before it is returned: the latencies measured
// are those of calls, as a long-lived client makes them, not of TCP and HTTP/2 set-up (250 new
// connections at once cost the first call of each up to ~190 ms here).
using Stub = std::unique_ptr<ft::v1::FinetuneService::Stub>;
Stub OwnStub(const std::string& address, const std::string& token) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  net::ChannelSecurity security;
  security.token = token;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      net::MakeChannel(address, security, args);
  if (!channel.ok()) return nullptr;
  (*channel)->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ft::v1::FinetuneService::NewStub(*channel);
}

// `count` connected stubs, made in parallel, the i-th sending token_of(i).
std::vector<Stub> ConnectedStubs(const std::string& address, int count,
                                 const std::function<std::string(int)>& token_of) {
  std::vector<Stub> stubs(count);
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&, i] { stubs[i] = OwnStub(address, token_of(i)); });
  }
  for (auto& thread : threads) thread.join();
  return stubs;
}

std::string UserToken(int user) {
  char token[64];
  std::snprintf(token, sizeof(token), "load-token-%04d-0123456789abcdef", user);
  return token;
}

// Acknowledged job ids by submission index; watchers wait here for their job.
class JobBoard {
 public:
  explicit JobBoard(int n) : ids_(n) {}
  void Ack(int index, std::string id) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_[index] = std::move(id);
    changed_.notify_all();
  }
  void Failed(int index) {
    std::lock_guard<std::mutex> lock(mu_);
    ids_[index] = std::string();
    changed_.notify_all();
  }
  void SubmissionsDone() {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    changed_.notify_all();
  }
  // The id ("" when its submission failed), or nullopt at the deadline.
  std::optional<std::string> WaitForJob(int index, Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_until(lock, deadline, [&] { return ids_[index].has_value(); });
    return ids_[index];
  }
  bool WaitForSubmissionsDone(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_until(lock, deadline, [&] { return done_; });
  }
  std::vector<std::optional<std::string>> ids() {
    std::lock_guard<std::mutex> lock(mu_);
    return ids_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<std::optional<std::string>> ids_;
  bool done_ = false;
};

// Which submission watcher `w` of `watchers` follows (see the file comment).
int WatchedJobIndex(int w, int watchers, int submissions) {
  const int pairs = watchers / 4;
  if (w < 2 * pairs) return w / 2;
  const int spread = watchers - 2 * pairs;
  return pairs + static_cast<int>(static_cast<int64_t>(w - 2 * pairs) * (submissions - pairs) /
                                  spread);
}

int Owner(int submission, int clients) { return submission % clients; }

struct WatchOutcome {
  int job_index = -1;
  std::string job_id;
  std::vector<ft::v1::JobEvent> events;
  std::vector<std::string> errors;
  LatencyStats lag;
  int streams = 0;
};

// Reads one stream after `after_seq` into `out`. With `stop_after` > 0 the client drops the
// stream after that many events (a disconnect it then resumes from). Returns whether the stream
// reached its end by itself.
bool ReadStream(ft::v1::FinetuneService::Stub& stub, uint64_t after_seq, int stop_after,
                Clock::time_point deadline, WatchOutcome* out) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + (deadline - Clock::now()));
  ft::v1::WatchJobRequest request;
  request.set_job_id(out->job_id);
  request.set_after_seq(after_seq);
  const auto opened = std::chrono::system_clock::now();
  auto reader = stub.WatchJob(&context, request);
  ++out->streams;
  ft::v1::JobEvent event;
  int read = 0;
  bool dropped = false;
  while (reader->Read(&event)) {
    const auto received = std::chrono::system_clock::now();
    const auto stored = ToSystemTime(event.time());
    // Events stored before the stream opened are a replay: their age is not a delivery lag.
    if (stored >= opened) {
      out->lag.Add(std::chrono::duration<double, std::milli>(received - stored).count());
    }
    out->events.push_back(event);
    if (stop_after > 0 && ++read == stop_after && !dropped) {
      context.TryCancel();
      dropped = true;
    }
  }
  const grpc::Status status = reader->Finish();
  if (dropped && status.error_code() == grpc::StatusCode::CANCELLED) return false;
  if (!status.ok()) {
    out->errors.push_back("WatchJob " + out->job_id + " after " + std::to_string(after_seq) +
                          ": " + std::to_string(status.error_code()) + " " +
                          status.error_message());
  }
  return true;
}

void Watch(Stub stub, int w, JobBoard& board, Clock::time_point deadline, WatchOutcome* out) {
  const LoadOptions& o = g_options;
  out->job_index = WatchedJobIndex(w, o.watchers, o.submissions);
  const bool resumes = w % 4 == 3;
  if (resumes && !board.WaitForSubmissionsDone(deadline)) {
    out->errors.push_back("submissions did not end before the deadline");
    return;
  }
  std::optional<std::string> id = board.WaitForJob(out->job_index, deadline);
  if (!id || id->empty()) return;  // its submission failed: counted there
  out->job_id = *id;
  int stop_after = resumes ? 1 + (w / 4) % 3 : 0;
  while (Clock::now() < deadline) {
    const uint64_t after = out->events.empty() ? 0 : out->events.back().seq();
    if (ReadStream(*stub, after, stop_after, deadline, out)) return;
    stop_after = 0;  // one drop per resuming watcher
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  out->errors.push_back("WatchJob " + out->job_id + ": deadline reached");
}

struct SubmitOutcome {
  LatencyStats latency;
  std::vector<std::string> errors;
};

void Submit(Stub stub, int round, int client, JobBoard& board, const ft::v1::JobSpec& spec,
            Clock::time_point start, SubmitOutcome* out) {
  const LoadOptions& o = g_options;
  for (int i = client; i < o.submissions; i += o.clients) {
    Clock::time_point scheduled = Clock::now();
    if (o.submit_rate > 0) {
      scheduled = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(i / o.submit_rate));
      std::this_thread::sleep_until(scheduled);
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ft::v1::SubmitJobRequest request;
    *request.mutable_spec() = spec;
    request.set_request_id("load-" + std::to_string(round) + "-" + std::to_string(i));
    ft::v1::SubmitJobResponse response;
    const grpc::Status status = stub->SubmitJob(&context, request, &response);
    out->latency.Add(MsSince(scheduled));
    if (!status.ok() || !response.created()) {
      out->errors.push_back("SubmitJob " + std::to_string(i) + ": " +
                            (status.ok() ? std::string("not created")
                                         : std::to_string(status.error_code()) + " " +
                                               status.error_message()));
      board.Failed(i);
      continue;
    }
    board.Ack(i, response.job().id());
  }
}

// Cancels client `client`'s jobs that have not ended; an ended one answers FAILED_PRECONDITION.
void CancelRest(const std::string& address, int client,
                const std::vector<std::optional<std::string>>& ids, std::vector<std::string>* errors,
                int* cancelled) {
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub = OwnStub(address, UserToken(client));
  for (size_t i = client; i < ids.size(); i += g_options.clients) {
    if (!ids[i] || ids[i]->empty()) continue;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    ft::v1::CancelJobRequest request;
    request.set_job_id(*ids[i]);
    request.set_reason("load test over");
    ft::v1::Job job;
    const grpc::Status status = stub->CancelJob(&context, request, &job);
    if (status.ok()) {
      ++*cancelled;
    } else if (status.error_code() != grpc::StatusCode::FAILED_PRECONDITION) {
      errors->push_back("CancelJob " + *ids[i] + ": " + std::to_string(status.error_code()) + " " +
                        status.error_message());
    }
  }
}

std::string Mb(int64_t kb) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(kb) / 1024.0);
  return text;
}

void PrintErrors(const std::string& what, const std::vector<std::string>& errors) {
  for (size_t i = 0; i < errors.size() && i < 10; ++i) std::cout << what << ": " << errors[i] << "\n";
  if (errors.size() > 10) std::cout << what << ": ... " << errors.size() - 10 << " more\n";
}

// Figures of one round, for the table.
struct RoundFigures {
  LatencyStats submit_latency;
  LatencyStats lag;
  double submit_seconds = 0;
  double total_seconds = 0;
  size_t events_received = 0;
  int resumed = 0;
  int cancelled = 0;
  int missing = 0;
  std::map<ft::v1::JobState, int> final_states;
  ProcessMemory right_after;
};

// One round of the load (see the file comment); failures are gtest failures.
void RunRound(FtdProcess& ftd, const ft::v1::JobSpec& spec, const std::string& admin_token,
              int round, RoundFigures* figures) {
  const LoadOptions& o = g_options;
  const std::string address = ftd.address();

  // Every client connected first (see OwnStub); the clock starts after.
  std::vector<Stub> watcher_stubs = ConnectedStubs(address, o.watchers, [&](int w) {
    return UserToken(Owner(WatchedJobIndex(w, o.watchers, o.submissions), o.clients));
  });
  std::vector<Stub> submit_stubs =
      ConnectedStubs(address, o.clients, [](int c) { return UserToken(c); });
  const Clock::time_point start = Clock::now();
  const Clock::time_point deadline =
      start + std::chrono::milliseconds(static_cast<int64_t>(o.deadline_seconds * 1000));
  JobBoard board(o.submissions);
  std::vector<WatchOutcome> watched(o.watchers);
  std::vector<std::thread> watcher_threads;
  for (int w = 0; w < o.watchers; ++w) {
    watcher_threads.emplace_back(Watch, std::move(watcher_stubs[w]), w, std::ref(board), deadline,
                                 &watched[w]);
  }
  std::vector<SubmitOutcome> submitted(o.clients);
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients; ++c) {
      threads.emplace_back(Submit, std::move(submit_stubs[c]), round, c, std::ref(board),
                           std::cref(spec), start, &submitted[c]);
    }
    for (auto& thread : threads) thread.join();
  }
  figures->submit_seconds = MsSince(start) / 1000;
  board.SubmissionsDone();

  // Let jobs run, then cancel the rest so that every stream reaches its job's end.
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<int64_t>(o.run_seconds * 1000)));
  const std::vector<std::optional<std::string>> ids = board.ids();
  std::vector<std::vector<std::string>> cancel_errors(o.clients);
  std::vector<int> cancelled(o.clients, 0);
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients; ++c) {
      threads.emplace_back(CancelRest, address, c, std::cref(ids), &cancel_errors[c],
                           &cancelled[c]);
    }
    for (auto& thread : threads) thread.join();
  }
  for (auto& thread : watcher_threads) thread.join();
  figures->total_seconds = MsSince(start) / 1000;
  figures->right_after = ReadProcessMemory(ftd.pid());

  // --- Correctness ---
  std::vector<std::string> submit_errors;
  for (const SubmitOutcome& s : submitted) {
    figures->submit_latency.Merge(s.latency);
    submit_errors.insert(submit_errors.end(), s.errors.begin(), s.errors.end());
  }
  PrintErrors("submit", submit_errors);
  EXPECT_TRUE(submit_errors.empty()) << submit_errors.size() << " SubmitJob calls failed";
  std::vector<std::string> all_cancel_errors;
  for (int c = 0; c < o.clients; ++c) {
    all_cancel_errors.insert(all_cancel_errors.end(), cancel_errors[c].begin(),
                             cancel_errors[c].end());
    figures->cancelled += cancelled[c];
  }
  PrintErrors("cancel", all_cancel_errors);
  EXPECT_TRUE(all_cancel_errors.empty());

  // Every acknowledged job exists, once, and ends (a job cancelled while it ran is CANCELLING
  // until its worker stops it, within seconds).
  auto admin = OwnStub(address, admin_token);
  std::map<std::string, int> seen_ids;
  std::map<std::string, std::vector<ft::v1::JobEvent>> stored;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i] || ids[i]->empty()) continue;
    ++seen_ids[*ids[i]];
    ft::v1::Job job;
    grpc::Status status;
    do {
      if (job.state() == ft::v1::CANCELLING) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      ft::v1::GetJobRequest request;
      request.set_job_id(*ids[i]);
      status = admin->GetJob(&context, request, &job);
    } while (status.ok() && job.state() == ft::v1::CANCELLING && Clock::now() < deadline);
    if (!status.ok()) {
      ++figures->missing;
      ADD_FAILURE() << "acknowledged job " << *ids[i] << ": " << status.error_message();
      continue;
    }
    ++figures->final_states[job.state()];
    EXPECT_TRUE(ft::testing::IsFinished(job)) << *ids[i] << " is " << JobState_Name(job.state());
  }
  for (const auto& [id, count] : seen_ids) EXPECT_EQ(count, 1) << id << " acknowledged twice";

  // Every watcher received exactly the stored events of its job.
  int watch_failures = 0;
  for (const WatchOutcome& w : watched) {
    figures->lag.Merge(w.lag);
    figures->resumed += w.streams > 1 ? 1 : 0;
    figures->events_received += w.events.size();
    PrintErrors("watch", w.errors);
    if (!w.errors.empty()) ++watch_failures;
    if (w.job_id.empty()) continue;
    auto it = stored.find(w.job_id);
    if (it == stored.end()) {
      grpc::Status status;
      std::vector<ft::v1::JobEvent> events =
          ft::testing::WatchAll(ftd, w.job_id, 0, std::chrono::seconds(30), &status);
      EXPECT_TRUE(status.ok()) << "full read of " << w.job_id << ": " << status.error_message();
      it = stored.emplace(w.job_id, std::move(events)).first;
    }
    const std::string problem = CheckWatchedEvents(w.events, it->second);
    if (!problem.empty()) {
      ++watch_failures;
      ADD_FAILURE() << "watcher of " << w.job_id << " (" << w.streams << " streams): " << problem;
    }
  }
  EXPECT_EQ(watch_failures, 0);

}

TEST(LoadTest, SubmitAndWatchUnderLoad) {
  const LoadOptions& o = g_options;
  TempDir dir;
  const std::string csv = dir.Path("toy.csv");
  ft::testing::WriteToyCsv(csv, o.train_rows, 11);
  std::string tokens = "# load test users\n";
  for (int c = 0; c < o.clients; ++c) {
    tokens += UserToken(c) + " load-user-" + std::to_string(c) + " user\n";
  }
  const std::string admin_token = "load-admin-token-0123456789abcdef";
  tokens += admin_token + " load-admin admin\n";
  FtdProcessOptions ftd_options;
  ftd_options.home = dir.Path("home");
  ftd_options.local_workers = o.local_workers;
  ftd_options.extra_args = o.ftd_flags;
  ftd_options.token_file = dir.Write("tokens", tokens);
  ftd_options.client_token = admin_token;
  FtdProcess ftd(ftd_options);
  ASSERT_NO_FATAL_FAILURE(ftd.Start());
  const ft::v1::JobSpec spec = ft::testing::TinySpec(csv, o.max_steps);

  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const ProcessMemory before = ReadProcessMemory(ftd.pid());
  std::vector<RoundFigures> rounds(o.rounds);
  std::vector<ProcessMemory> settled(o.rounds);
  for (int r = 0; r < o.rounds; ++r) {
    RunRound(ftd, spec, admin_token, r, &rounds[r]);
    // Memory after a quiet period.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(static_cast<int64_t>(o.settle_seconds * 1000)));
    settled[r] = ReadProcessMemory(ftd.pid());
  }
  std::string load1, load5, load15;
  std::ifstream("/proc/loadavg") >> load1 >> load5 >> load15;
  std::cout << "\n## ft_load: " << o.submissions << " submissions from " << o.clients
            << " clients (" << (o.submit_rate > 0 ? std::to_string(o.submit_rate) + "/s"
                                                  : std::string("closed loop"))
            << "), " << o.watchers << " watchers, " << o.local_workers << " worker(s), "
            << std::thread::hardware_concurrency() << " cores, load average " << load1 << " "
            << load5 << " " << load15 << " (at the end)\n\n| what |";
  for (int r = 0; r < o.rounds; ++r) std::cout << " round " << r + 1 << " |";
  std::cout << "\n|---|";
  for (int r = 0; r < o.rounds; ++r) std::cout << "---|";
  auto row = [&](const std::string& what, const std::function<std::string(int)>& cell) {
    std::cout << "\n| " << what << " |";
    for (int r = 0; r < o.rounds; ++r) std::cout << " " << cell(r) << " |";
  };
  auto number = [](double value, const char* unit) {
    char text[48];
    std::snprintf(text, sizeof(text), "%.2f%s", value, unit);
    return std::string(text);
  };
  row("SubmitJob latency", [&](int r) { return rounds[r].submit_latency.Summary({50, 90, 99}); });
  row("submission phase", [&](int r) {
    return number(rounds[r].submit_seconds, " s (") +
           std::to_string(static_cast<int>(o.submissions / rounds[r].submit_seconds)) + "/s)";
  });
  row("event delivery lag (live events)", [&](int r) { return rounds[r].lag.Summary({50, 99}); });
  row("events received (watchers resumed)", [&](int r) {
    return std::to_string(rounds[r].events_received) + " (" + std::to_string(rounds[r].resumed) +
           ")";
  });
  row("jobs succeeded / cancelled / failed", [&](int r) {
    auto& states = rounds[r].final_states;
    return std::to_string(states[ft::v1::SUCCEEDED]) + " / " +
           std::to_string(states[ft::v1::CANCELLED]) + " / " +
           std::to_string(states[ft::v1::FAILED]) + " (" + std::to_string(rounds[r].missing) +
           " missing)";
  });
  row("ftd VmRSS before the round", [&](int r) {
    return Mb(r == 0 ? before.rss_kb : settled[r - 1].rss_kb);
  });
  row("ftd VmRSS right after", [&](int r) { return Mb(rounds[r].right_after.rss_kb); });
  row("ftd VmRSS after " + number(o.settle_seconds, " s") + " idle",
      [&](int r) { return Mb(settled[r].rss_kb); });
  row("ftd VmHWM (peak so far)", [&](int r) { return Mb(settled[r].hwm_kb); });
  row("round time (first submission to last stream's end)",
      [&](int r) { return number(rounds[r].total_seconds, " s"); });
  std::cout << "\n\n";
  if (o.check) {
    for (int r = 0; r < o.rounds; ++r) {
      EXPECT_LE(rounds[r].submit_latency.Percentile(99), o.submit_p99_bar_ms)
          << "round " << r + 1 << ": SubmitJob p99 over the bar";
      EXPECT_LE(rounds[r].lag.Percentile(99), o.lag_p99_bar_ms)
          << "round " << r + 1 << ": event lag p99 over the bar";
    }
  }
}

}  // namespace
}  // namespace ft::load

int main(int argc, char** argv) {
  std::vector<std::string> rest;
  const std::string error = ft::load::ParseLoadOptions(argc, argv, &ft::load::g_options, &rest);
  if (!error.empty()) {
    std::cerr << "ft_load: " << error << "\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  std::vector<char*> gtest_args = {argv[0]};
  for (std::string& arg : rest) gtest_args.push_back(arg.data());
  int gtest_argc = static_cast<int>(gtest_args.size());
  testing::InitGoogleTest(&gtest_argc, gtest_args.data());
  return RUN_ALL_TESTS();
}
