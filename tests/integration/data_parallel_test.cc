// Data-parallel training (worker/distributed, docs/distributed.md) with real processes over
// loopback: `ftworker --spec --rank --world-size --rendezvous` gangs. The same job trained by
// world 2 x micro-batch 2 x accumulation 2, by world 1 x 2 x 4 and by 1 x 8 x 1 ends with the same
// SGD parameters (within 1e-6 of each tensor's largest value) and the same evaluation, for a
// classifier and a causal LM, a short last window included (in which rank 1 has no micro-batch);
// a gang killed after a checkpoint resumes bit-identical to an uninterrupted gang; a rank that
// cannot reach the rendezvous fails within its timeout, naming the address; a peer killed or hung
// mid-job fails the other rank instead of leaving it blocked.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/ftd_process.h"
#include "tests/support/safetensors_reader.h"
#include "tests/support/temp_dir.h"

namespace ft::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Parameters after 3 SGD steps: max |a - b| <= 1e-6 * max |b| per tensor.
constexpr double kTolerance = 1e-6;
// Or, where float32 rounding alone exceeds that, within this factor of the rounding that the two
// single-process geometries 1 x 2 x 4 and 1 x 8 x 1 show between themselves: the gang cuts its
// windows into other micro-batches than either (rank_share.h), so its sums add in another order.
constexpr double kRoundingFactor = 2.0;

// One ftworker process whose stdout and stderr are collected by a thread, so that a test can wait
// for a line while the process runs.
class WorkerProcess {
 public:
  explicit WorkerProcess(const std::vector<std::string>& arguments) {
    int pipe_fds[2];
    EXPECT_EQ(pipe(pipe_fds), 0);
    std::vector<char*> argv;
    for (const std::string& argument : arguments) {
      argv.push_back(const_cast<char*>(argument.c_str()));
    }
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      dup2(pipe_fds[1], STDERR_FILENO);
      close(pipe_fds[0]);
      close(pipe_fds[1]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(pipe_fds[1]);
    reader_ = std::thread([this, fd = pipe_fds[0]] {
      char buffer[4096];
      ssize_t n = 0;
      while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
        std::lock_guard<std::mutex> lock(mutex_);
        output_.append(buffer, static_cast<std::size_t>(n));
      }
      close(fd);
    });
  }
  ~WorkerProcess() {
    if (!waited_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }

  // The exit status (-1: killed by a signal).
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    reader_.join();
    waited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  bool WaitForText(const std::string& text, double seconds) {
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    while (Clock::now() < deadline) {
      if (Output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  }
  void Kill() { kill(pid_, SIGKILL); }
  void Freeze() { kill(pid_, SIGSTOP); }  // a hung rank: alive, its sockets open, silent
  std::string Output() {
    std::lock_guard<std::mutex> lock(mutex_);
    return output_;
  }

 private:
  pid_t pid_ = -1;
  bool waited_ = false;
  std::mutex mutex_;
  std::string output_;
  std::thread reader_;
};

struct Geometry {
  int world_size;
  int micro_batch_size;
  int accumulation_steps;
  std::string gang_reduce = "";  // ftworker --gang-reduce; empty: its default
};

std::vector<std::string> RankArguments(const std::string& spec, const std::string& out, int rank,
                                       int world_size, int port, double timeout = 30,
                                       const std::string& gang_reduce = "") {
  std::vector<std::string> arguments = {BinaryPath("ftworker"), "--spec", spec, "--out", out,
                                        "--threads", "1", "--cache-dir", ""};
  if (world_size > 1) {
    arguments.insert(arguments.end(),
                     {"--rank", std::to_string(rank), "--world-size", std::to_string(world_size),
                      "--rendezvous", "127.0.0.1:" + std::to_string(port), "--gang-timeout",
                      std::to_string(timeout)});
    if (!gang_reduce.empty()) arguments.insert(arguments.end(), {"--gang-reduce", gang_reduce});
  }
  return arguments;
}

// Writes the spec with the geometry and runs every rank to its end; the output of each rank.
std::vector<std::string> RunGang(TempDir& dir, nlohmann::json spec, const Geometry& geometry,
                                 const std::string& out) {
  spec["micro_batch_size"] = geometry.micro_batch_size;
  spec["accumulation_steps"] = geometry.accumulation_steps;
  const std::string spec_file = dir.Write(std::filesystem::path(out).filename().string() +
                                              ".json", spec.dump());
  const int port = FreeTcpPort();
  std::vector<std::unique_ptr<WorkerProcess>> ranks;
  for (int rank = 0; rank < geometry.world_size; ++rank) {
    ranks.push_back(std::make_unique<WorkerProcess>(
        RankArguments(spec_file, out, rank, geometry.world_size, port, 30,
                      geometry.gang_reduce)));
  }
  std::vector<std::string> outputs;
  for (auto& rank : ranks) {
    const int status = rank->Wait();
    outputs.push_back(rank->Output());
    EXPECT_EQ(status, 0) << rank->Output();
  }
  return outputs;
}

nlohmann::json ResultJson(const std::string& out) {
  std::ifstream in(out + "/result.json");
  return nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// The final validation evaluation in result.json.
nlohmann::json FinalValidation(const std::string& out) {
  const nlohmann::json result = ResultJson(out);
  if (!result.contains("metrics") || !result["metrics"].contains("validation")) {
    ADD_FAILURE() << "no validation metrics in " << out << "/result.json: " << result.dump();
    return nlohmann::json::object();
  }
  return result["metrics"]["validation"];
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void ExpectSameEvaluation(const nlohmann::json& gang, const nlohmann::json& alone,
                          const std::string& what) {
  EXPECT_EQ(gang.value("examples", -1), alone.value("examples", -2)) << what;
  EXPECT_NEAR(gang.value("loss", 0.0), alone.value("loss", 1.0), 1e-5) << what;
  EXPECT_EQ(gang.value("accuracy", 0.0), alone.value("accuracy", 1.0)) << what;
  EXPECT_EQ(gang.value("target_tokens", 0), alone.value("target_tokens", 0)) << what;
  EXPECT_EQ(gang.value("confusion", nlohmann::json()), alone.value("confusion", nlohmann::json()))
      << what;
}

// 18 training examples in windows of 8: 8, 8 and a short last window of 2 (one micro-batch of 2,
// so rank 1 computes nothing and joins the all-reduce with zeros). 70 validation examples: the
// evaluation's batches of 32 are 32, 32 and 6, split 2 + 1 between the ranks.
nlohmann::json ClassifierSpec(TempDir& dir) {
  WriteToyCsv(dir.Path("train.csv"), 18, 3);
  WriteToyCsv(dir.Path("validation.csv"), 70, 4);
  return {{"model", "scratch:bloom-tiny"},
          {"dataset",
           {{"train", dir.Path("train.csv")}, {"validation", dir.Path("validation.csv")}}},
          {"optimizer", "sgd"}, {"learning_rate", 0.1}, {"epochs", 1}, {"max_seq_length", 32},
          {"log_every_steps", 1}, {"seed", 11}, {"checkpoint_every_steps", 1},
          {"micro_batch_size", 2}, {"accumulation_steps", 2}};
}

// Prompt/completion rows of different lengths: micro-batches hold different numbers of target
// tokens, so only the window's global token count gives one process's gradient.
nlohmann::json CausalLmSpec(TempDir& dir) {
  std::string train;
  for (int i = 0; i < 18; ++i) {
    std::string prompt = std::to_string(i) + "+" + std::to_string(i % 5);
    for (int pad = 0; pad < i % 4; ++pad) prompt += " so";
    train += nlohmann::json({{"prompt", prompt + "="},
                             {"completion", " " + std::to_string(i + i % 5) +
                                                std::string(static_cast<std::size_t>(i % 3), '!')}})
                 .dump() +
             "\n";
  }
  std::string validation;
  for (int i = 0; i < 40; ++i) {
    validation += nlohmann::json({{"text", "a validation text number " + std::to_string(i) +
                                               std::string(static_cast<std::size_t>(i % 7), '.')}})
                      .dump() +
                  "\n";
  }
  return {{"model", "scratch:bloom-tiny"}, {"task", "causal_lm"},
          {"dataset",
           {{"train", dir.Write("train.jsonl", train)},
            {"validation", dir.Write("validation.jsonl", validation)}}},
          {"optimizer", "sgd"}, {"learning_rate", 0.1}, {"epochs", 1}, {"max_seq_length", 48},
          {"log_every_steps", 1}, {"seed", 11}, {"checkpoint_every_steps", 1},
          {"micro_batch_size", 2}, {"accumulation_steps", 2}};
}

void ExpectGeometriesAgree(TempDir& dir, const nlohmann::json& spec) {
  const std::string gang = dir.Path("gang-2x2x2");
  RunGang(dir, spec, {2, 2, 2, "overlapped"}, gang);
  // The all-reduce started after the backward (the CPU's default) adds the same two numbers for
  // each element, so the gangs end bit-identical.
  const std::string gang_after = dir.Path("gang-2x2x2-after-backward");
  RunGang(dir, spec, {2, 2, 2, "after-backward"}, gang_after);
  EXPECT_EQ(ReadBytes(gang + "/model.safetensors"), ReadBytes(gang_after + "/model.safetensors"));
  const std::string accumulated = dir.Path("alone-1x2x4");
  RunGang(dir, spec, {1, 2, 4}, accumulated);
  const std::string one_batch = dir.Path("alone-1x8x1");
  RunGang(dir, spec, {1, 8, 1}, one_batch);

  const auto gang_weights = ReadSafetensors(gang + "/model.safetensors");
  const auto accumulated_weights = ReadSafetensors(accumulated + "/model.safetensors");
  const auto one_batch_weights = ReadSafetensors(one_batch + "/model.safetensors");
  ASSERT_FALSE(gang_weights.empty());
  const double vs_accumulated = MaxRelativeDifference(gang_weights, accumulated_weights);
  const double vs_one_batch = MaxRelativeDifference(gang_weights, one_batch_weights);
  // float32 rounding between two single-process geometries of the same windows: the biases that
  // start at 0 have a largest value of ~1e-4 after 3 steps, and summing the micro-batches'
  // gradients in another order already moves them by ~1e-6 of it.
  const double rounding = MaxRelativeDifference(accumulated_weights, one_batch_weights);
  std::cout << "max relative difference of 2x2x2 vs 1x2x4: " << vs_accumulated
            << ", vs 1x8x1: " << vs_one_batch << "; 1x2x4 vs 1x8x1: " << rounding << std::endl;
  const double allowed = std::max(kTolerance, kRoundingFactor * rounding);
  EXPECT_LE(vs_accumulated, allowed);
  EXPECT_LE(vs_one_batch, allowed);
  // The parameters moved: the comparison is not between three untrained models.
  const nlohmann::json result = ResultJson(gang);
  EXPECT_EQ(result.value("total_steps", 0), 3) << result.dump();
  EXPECT_EQ(result["options"].value("world_size", 0), 2) << result.dump();
  EXPECT_EQ(result["options"].value("effective_batch_size", 0), 8) << result.dump();
  ExpectSameEvaluation(FinalValidation(gang), FinalValidation(accumulated), "validation");
}

TEST(DataParallelTest, ClassifierGangEqualsOneProcess) {
  TempDir dir;
  ExpectGeometriesAgree(dir, ClassifierSpec(dir));
}

TEST(DataParallelTest, CausalLmGangEqualsOneProcess) {
  TempDir dir;
  ExpectGeometriesAgree(dir, CausalLmSpec(dir));
}

// The gang is killed (both ranks, kill -9) once rank 0 committed a checkpoint; the same gang
// started again resumes from it and ends with the bytes of an uninterrupted gang.
TEST(DataParallelTest, GangResumesBitIdentical) {
  TempDir dir;
  nlohmann::json spec = ClassifierSpec(dir);
  spec["epochs"] = 8;  // 24 steps: the kill comes long before the end
  spec["checkpoint_every_steps"] = 5;
  spec["micro_batch_size"] = 2;
  spec["accumulation_steps"] = 2;
  const std::string spec_file = dir.Write("resume.json", spec.dump());

  const std::string uninterrupted = dir.Path("uninterrupted");
  RunGang(dir, spec, {2, 2, 2}, uninterrupted);

  const std::string interrupted = dir.Path("interrupted");
  {
    const int port = FreeTcpPort();
    WorkerProcess rank0(RankArguments(spec_file, interrupted, 0, 2, port));
    WorkerProcess rank1(RankArguments(spec_file, interrupted, 1, 2, port));
    ASSERT_TRUE(rank0.WaitForText("checkpoint at step 5 ", 60)) << rank0.Output();
    rank0.Kill();
    rank1.Kill();
    rank0.Wait();
    rank1.Wait();
    ASSERT_FALSE(std::filesystem::exists(interrupted + "/model.safetensors"));
  }
  const std::vector<std::string> outputs = RunGang(dir, spec, {2, 2, 2}, interrupted);
  for (const std::string& output : outputs) {
    EXPECT_NE(output.find("resumed from checkpoint at step "), std::string::npos) << output;
  }
  const std::string resumed_bytes = ReadBytes(interrupted + "/model.safetensors");
  const std::string uninterrupted_bytes = ReadBytes(uninterrupted + "/model.safetensors");
  EXPECT_FALSE(resumed_bytes.empty());
  EXPECT_TRUE(resumed_bytes == uninterrupted_bytes)
      << "the resumed gang's model.safetensors differs from the uninterrupted gang's "
      << "(max relative difference "
      << MaxRelativeDifference(ReadSafetensors(interrupted + "/model.safetensors"),
                               ReadSafetensors(uninterrupted + "/model.safetensors"))
      << ")";
  EXPECT_GT(ResultJson(interrupted).value("resumed_from_step", 0), 0)
      << ResultJson(interrupted).dump();
}

// Rank 1 of 2 with nobody at the rendezvous: a clear error naming the address, within the
// timeout (3 s) and well before the test's own limit.
TEST(DataParallelTest, UnreachableRendezvousFailsNamingTheAddress) {
  TempDir dir;
  const std::string spec_file = dir.Write("spec.json", ClassifierSpec(dir).dump());
  const int port = FreeTcpPort();
  const Clock::time_point start = Clock::now();
  WorkerProcess rank1(RankArguments(spec_file, dir.Path("out"), 1, 2, port, /*timeout=*/3));
  const int status = rank1.Wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(status, 1) << rank1.Output();
  EXPECT_NE(rank1.Output().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << rank1.Output();
  EXPECT_LT(seconds, 30) << rank1.Output();
}

// Rank 0 of 2 whose peer never comes: it fails within the timeout instead of waiting forever.
TEST(DataParallelTest, MissingPeerFailsWithinTheTimeout) {
  TempDir dir;
  const std::string spec_file = dir.Write("spec.json", ClassifierSpec(dir).dump());
  const Clock::time_point start = Clock::now();
  WorkerProcess rank0(RankArguments(spec_file, dir.Path("out"), 0, 2, FreeTcpPort(), 3));
  const int status = rank0.Wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(status, 1) << rank0.Output();
  EXPECT_NE(rank0.Output().find("did not join"), std::string::npos) << rank0.Output();
  EXPECT_LT(seconds, 30) << rank0.Output();
}

// Starts a long gang (600 steps) with the given timeout, lets `disturb` do something to rank 1
// once rank 0 reported step 2, and waits for rank 0: it must fail within the timeout (plus slack)
// saying that a peer failed, and leave no model behind.
void ExpectRankZeroFailsWhenRankOne(const std::function<void(WorkerProcess&)>& disturb,
                                    double timeout, const std::string& what) {
  TempDir dir;
  nlohmann::json spec = ClassifierSpec(dir);
  spec["epochs"] = 200;
  const std::string spec_file = dir.Write("spec.json", spec.dump());
  const int port = FreeTcpPort();
  WorkerProcess rank0(RankArguments(spec_file, dir.Path("out"), 0, 2, port, timeout));
  WorkerProcess rank1(RankArguments(spec_file, dir.Path("out"), 1, 2, port, timeout));
  ASSERT_TRUE(rank0.WaitForText("step 2/", 60)) << rank0.Output();
  const Clock::time_point disturbed = Clock::now();
  disturb(rank1);
  const int status = rank0.Wait();
  const double seconds = std::chrono::duration<double>(Clock::now() - disturbed).count();
  std::cout << "rank 0 ended " << seconds << " s after rank 1 " << what << std::endl;
  EXPECT_EQ(status, 1) << rank0.Output();
  EXPECT_NE(rank0.Output().find("failed (a peer died, hung or timed out)"), std::string::npos)
      << rank0.Output();
  EXPECT_LT(seconds, timeout + 20) << rank0.Output();
  EXPECT_FALSE(std::filesystem::exists(dir.Path("out") + "/model.safetensors"));
}

// kill -9 of rank 1 mid-job: rank 0, in the next all-reduce, fails at once (the socket closes).
TEST(DataParallelTest, PeerKilledMidJobFailsTheOtherRank) {
  ExpectRankZeroFailsWhenRankOne([](WorkerProcess& rank1) { rank1.Kill(); }, 5, "was killed");
}

// Rank 1 hangs (SIGSTOP) mid-job: its sockets stay open, so only c10d's timeout (3 s) can end
// rank 0's wait in the all-reduce.
TEST(DataParallelTest, HungPeerFailsTheOtherRankWithinTheTimeout) {
  ExpectRankZeroFailsWhenRankOne([](WorkerProcess& rank1) { rank1.Freeze(); }, 3, "hung");
}

TEST(DataParallelTest, BadGangFlagsAreRefusedByName) {
  TempDir dir;
  const std::string spec_file = dir.Write("spec.json", ClassifierSpec(dir).dump());
  WorkerProcess bad_rank({BinaryPath("ftworker"), "--spec", spec_file, "--out", dir.Path("a"),
                          "--rank", "2", "--world-size", "2", "--rendezvous", "127.0.0.1:1"});
  EXPECT_EQ(bad_rank.Wait(), 2);
  EXPECT_NE(bad_rank.Output().find("--rank 2 is not in 0..1"), std::string::npos)
      << bad_rank.Output();
  WorkerProcess no_port({BinaryPath("ftworker"), "--spec", spec_file, "--out", dir.Path("b"),
                         "--rank", "0", "--world-size", "2", "--rendezvous", "localhost"});
  EXPECT_EQ(no_port.Wait(), 2);
  EXPECT_NE(no_port.Output().find("--rendezvous"), std::string::npos) << no_port.Output();
}

}  // namespace
}  // namespace ft::testing
