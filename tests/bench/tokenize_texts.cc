// Encodes texts with our tokenizer (common/tokenize), for the benchmark against Hugging Face's
// JavaScript tokenizers. Usage:
//   tokenize_texts TOKENIZER_JSON TEXTS_JSONL OUT_IDS_JSONL [--repeat N]
// TEXTS_JSONL: one JSON object with a "text" field (or a bare JSON string) per line. Writes one
// JSON list of ids per line (special tokens added, no truncation) and prints
// {"texts":N,"bytes":B,"seconds":S,"cpu_seconds":C,"load_seconds":L} (S and C: wall and process
// CPU time of the encoding loop, best of N runs).
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/tokenize/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: tokenize_texts TOKENIZER_JSON TEXTS_JSONL OUT_IDS_JSONL [--repeat N]\n";
    return 2;
  }
  int repeat = 1;
  for (int i = 4; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--repeat") repeat = std::stoi(argv[i + 1]);
  }
  try {
    const auto load_start = std::chrono::steady_clock::now();
    const auto tokenizer = ft::tokenize::Tokenizer::FromFile(argv[1]);
    const double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    std::ifstream in(argv[2]);
    if (!in) throw std::runtime_error(std::string(argv[2]) + ": cannot be read");
    std::vector<std::string> texts;
    std::size_t bytes = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      const nlohmann::json value = nlohmann::json::parse(line);
      texts.push_back(value.is_string() ? value.get<std::string>()
                                        : value.at("text").get<std::string>());
      bytes += texts.back().size();
    }
    double best = std::numeric_limits<double>::infinity();
    double best_cpu = std::numeric_limits<double>::infinity();
    std::vector<std::vector<int64_t>> all;
    for (int r = 0; r < repeat; ++r) {
      std::vector<std::vector<int64_t>> ids(texts.size());
      const auto start = std::chrono::steady_clock::now();
      const std::clock_t cpu_start = std::clock();
      for (std::size_t i = 0; i < texts.size(); ++i) ids[i] = tokenizer->Encode(texts[i]);
      best_cpu = std::min(best_cpu, static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC);
      best = std::min(
          best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      all = std::move(ids);
    }
    std::ofstream out(argv[3]);
    for (const auto& ids : all) out << nlohmann::json(ids).dump() << "\n";
    if (!out) throw std::runtime_error(std::string(argv[3]) + ": write failed");
    std::cout << nlohmann::json{{"texts", texts.size()},
                                {"bytes", bytes},
                                {"seconds", best},
                                {"cpu_seconds", best_cpu},
                                {"load_seconds", load_seconds}}
                     .dump()
              << "\n";
  } catch (const std::exception& error) {
    std::cerr << error.what() << "\n";
    return 1;
  }
  return 0;
}
