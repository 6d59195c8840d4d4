#include "worker/checkpoint/checkpoint_store.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "worker/checkpoint/checkpoint_header.h"
#include "worker/io/durable_folder.h"

namespace ft::train {
namespace {

namespace fs = std::filesystem;

constexpr const char* kStepPrefix = "step-";
constexpr const char* kPartialPrefix = ".partial-step-";
constexpr const char* kReplacedPrefix = ".replaced-step-";

// Zero-padded, so that a listing sorts by step.
std::string PaddedStep(int64_t step) {
  char digits[32];
  std::snprintf(digits, sizeof(digits), "%08lld", static_cast<long long>(step));
  return digits;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// The step of a "step-N" folder name, or nullopt for any other name.
std::optional<int64_t> StepOf(const std::string& name) {
  if (!StartsWith(name, kStepPrefix) || name.size() == std::string(kStepPrefix).size()) {
    return std::nullopt;
  }
  int64_t step = 0;
  for (std::size_t i = std::string(kStepPrefix).size(); i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9' || step > (INT64_MAX - 9) / 10) return std::nullopt;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

// "" when `folder` holds a valid COMPLETE marker and the files it lists; else what is wrong.
std::string CheckComplete(const fs::path& folder) {
  std::ifstream in(folder / CheckpointStore::kCompleteFile, std::ios::binary);
  if (!in) return "it has no COMPLETE marker (the write was cut off)";
  const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const auto marker = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!marker.is_object() || !marker.contains("files") || !marker["files"].is_object()) {
    return "its COMPLETE marker is unreadable";
  }
  const auto& files = marker["files"];
  for (const char* required : {CheckpointStore::kHeaderFile, CheckpointStore::kStateFile}) {
    if (!files.contains(required)) return std::string("its COMPLETE marker omits ") + required;
  }
  for (const auto& [name, size] : files.items()) {
    std::error_code error;
    const uintmax_t actual = fs::file_size(folder / name, error);
    if (error) return name + " is missing";
    if (!size.is_number_unsigned() || actual != size.get<uintmax_t>()) {
      return name + " has " + std::to_string(actual) + " bytes, the marker says " + size.dump();
    }
  }
  return "";
}

}  // namespace

CheckpointStore::CheckpointStore(const std::string& output_dir)
    : folder_((fs::path(output_dir) / "checkpoints").string()) {}

std::optional<std::string> CheckpointStore::FindNewestComplete(
    std::vector<std::string>& warnings) const {
  std::map<int64_t, fs::path, std::greater<>> by_step;  // newest first
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(folder_, error)) {
    const std::optional<int64_t> step = StepOf(entry.path().filename().string());
    if (step && entry.is_directory()) by_step[*step] = entry.path();
  }
  for (const auto& [step, path] : by_step) {
    const std::string problem = CheckComplete(path);
    if (problem.empty()) return path.string();
    warnings.push_back("ignoring the checkpoint in " + path.string() + ": " + problem);
  }
  return std::nullopt;
}

std::string CheckpointStore::BeginWrite(int64_t step) const {
  const fs::path partial = fs::path(folder_) / (kPartialPrefix + PaddedStep(step));
  fs::remove_all(partial);
  fs::create_directories(partial);
  return partial.string();
}

uint64_t CheckpointStore::Commit(const std::string& partial_folder, int64_t step) const {
  nlohmann::ordered_json files = nlohmann::ordered_json::object();
  uint64_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(partial_folder)) {
    const uintmax_t size = entry.file_size();
    files[entry.path().filename().string()] = size;
    bytes += size;
  }
  const nlohmann::ordered_json marker = {
      {"format_version", kCheckpointFormatVersion}, {"step", step}, {"files", files}};
  io::WriteFileDurably((fs::path(partial_folder) / kCompleteFile).string(), marker.dump(2) + "\n");

  const fs::path final_folder = fs::path(folder_) / (kStepPrefix + PaddedStep(step));
  if (fs::exists(final_folder)) {
    // A broken folder of the same step (or one rewritten): move it aside rather than delete it
    // first, so that a crash here never leaves no checkpoint at all.
    const fs::path aside = fs::path(folder_) / (kReplacedPrefix + PaddedStep(step));
    fs::remove_all(aside);
    fs::rename(final_folder, aside);
  }
  io::CommitFolder(partial_folder, final_folder.string());

  // Only now that the new one is in place: remove the older checkpoints and any leftovers.
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(folder_)) {
    const std::string name = entry.path().filename().string();
    if (entry.path() == final_folder) continue;
    if (StepOf(name) || StartsWith(name, kPartialPrefix) || StartsWith(name, kReplacedPrefix)) {
      stale.push_back(entry.path());
    }
  }
  for (const fs::path& path : stale) {
    std::error_code ignored;  // a leftover that cannot be removed now goes at the next commit
    fs::remove_all(path, ignored);
  }
  return bytes;
}

}  // namespace ft::train
