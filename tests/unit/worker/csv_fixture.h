// Test support for training-core tests: small files and a learnable sentiment CSV.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>

namespace ft::testing {

inline std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFile(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// "pos" texts talk about good things, "neg" texts about bad ones: learnable from bytes.
inline std::string SentimentCsv(int rows, uint64_t seed) {
  std::mt19937_64 generator(seed);
  const char* good[] = {"great", "lovely", "good", "superb"};
  const char* bad[] = {"awful", "boring", "bad", "poor"};
  std::string csv = "text,label\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = generator() % 2 == 0;
    csv += std::string("\"a ") + (positive ? good : bad)[generator() % 4] + " film, " +
           std::to_string(generator() % 1000) + "\"," + (positive ? "pos" : "neg") + "\n";
  }
  return csv;
}

// JSON Lines prompt/completion rows: TREC-like questions and their answer types.
inline std::string QuestionRows(int count) {
  static const char* kAnswers[] = {" location", " number", " person"};
  std::string rows;
  for (int i = 0; i < count; ++i) {
    rows += "{\"prompt\": \"Question " + std::to_string(i * 7919 % 1000) + "?\\nType:\", " +
            "\"completion\": \"" + kAnswers[i % 3] + "\"}\n";
  }
  return rows;
}

}  // namespace ft::testing
