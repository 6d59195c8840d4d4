// Exercises the data pipeline on CUDA (tests/gpu/README.md): auto_micro_batch (free-memory
// probes), the out-of-memory retry (a micro-batch too large for the GPU), and exactness of the
// retried steps (SGD: the same training and validation losses as a run whose micro-batch fits).
// Not part of the CTest suite: run by tests/gpu/run.sh on a GPU host.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "train/train_job.h"

namespace fs = std::filesystem;

class Printer : public ft::train::TrainObserver {
 public:
  std::vector<double> losses;
  void OnLog(const std::string& level, const std::string& message) override {
    std::cout << "  " << level << ": " << message << std::endl;
  }
  void OnProgress(const ft::train::ProgressReport& r) override {
    losses.push_back(r.loss);
    std::cout << "  step " << r.step << "/" << r.total_steps << " loss " << r.loss << " "
              << r.samples_per_second << " samples/s" << std::endl;
  }
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

int main(int argc, char** argv) {
  const fs::path dir = argc > 1 ? argv[1] : "/tmp/gpucheck";
  const std::string model = argc > 2 ? argv[2] : "scratch:bloom-560m";
  const int64_t seq = argc > 3 ? std::stoll(argv[3]) : 2048;
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::mt19937_64 generator(1);
    std::ofstream csv(dir / "train.csv");
    csv << "text,label\n";
    for (int i = 0; i < 80; ++i) {
      const bool positive = generator() % 2 == 0;
      std::string text = positive ? "good" : "bad";
      const int words = 300 + static_cast<int>(generator() % 400);  // ~1800-4200 bytes
      for (int w = 0; w < words; ++w) {
        text += ' ';
        for (int c = 0; c < 5; ++c) text += static_cast<char>('a' + generator() % 26);
      }
      csv << text << "," << (positive ? "pos" : "neg") << "\n";
    }
  }
  ft::train::TrainOptions base;
  base.model = model;
  base.train_path = (dir / "train.csv").string();
  base.validation_fraction = 0.2;
  base.max_seq_length = seq;
  base.max_steps = 2;
  base.max_eval_examples = 16;
  base.log_every_steps = 1;
  base.checkpoint_every_steps = -1;
  base.optimizer = "sgd";
  base.learning_rate = 0.01;
  base.seed = 1;
  base.threads = 8;
  base.token_cache_dir = (dir / "cache").string();

  int failures = 0;
  std::map<std::string, std::vector<double>> losses;
  const auto run = [&](const std::string& name, auto change) {
    ft::train::TrainOptions options = base;
    options.output_dir = (dir / name).string();
    change(options);
    std::cout << "== " << name << std::endl;
    Printer printer;
    const auto start = std::chrono::steady_clock::now();
    const auto outcome = ft::train::RunTrainingJob(options, &printer);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (outcome.status != ft::train::TrainOutcome::Status::kSucceeded) {
      std::cout << "  FAILED: " << outcome.error << std::endl;
      ++failures;
      return nlohmann::json();
    }
    losses[name] = printer.losses;
    auto result = nlohmann::json::parse(ReadAll(dir / name / "result.json"));
    std::cout << "  " << seconds << " s; runtime " << result["runtime"].dump() << std::endl;
    std::cout << "  pipeline " << result["pipeline"].dump() << std::endl;
    return result;
  };

  const auto automatic = run("auto", [](ft::train::TrainOptions& o) {
    o.auto_micro_batch = true;
    o.micro_batch_size = 0;
    o.accumulation_steps = 0;
    o.effective_batch_size = 16;
  });
  const auto retried = run("micro16x1", [](ft::train::TrainOptions& o) {
    o.micro_batch_size = 16;
    o.accumulation_steps = 1;
    o.group_by_length = true;
  });
  const auto fitting = run("micro2x8", [](ft::train::TrainOptions& o) {
    o.micro_batch_size = 2;
    o.accumulation_steps = 8;
    o.group_by_length = true;
  });
  if (!retried.is_null() && !fitting.is_null()) {
    const double a = retried["metrics"]["validation"]["loss"];
    const double b = fitting["metrics"]["validation"]["loss"];
    std::cout << "== out-of-memory retries: " << retried["pipeline"]["out_of_memory_retries"]
              << "; validation loss 16x1 (retried) " << a << " vs 2x8 " << b
              << " (relative difference " << std::fabs(a - b) / std::fabs(b) << ")";
    for (std::size_t i = 0; i < losses["micro16x1"].size() && i < losses["micro2x8"].size(); ++i) {
      std::cout << "; training loss " << losses["micro16x1"][i] << " vs " << losses["micro2x8"][i];
    }
    std::cout << std::endl;
  }
  return failures;
}
