// The aclImdb folder layout: <path>/<label>/*.txt, one example per file. The labels are exactly
// the immediate subfolders that hold .txt files (for aclImdb: pos and neg); `unsup` (unlabeled
// reviews) and hidden folders are ignored.
#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/data/dataset.h"
#include "common/data/readers.h"

namespace ft::data::internal {
namespace {

namespace fs = std::filesystem;

struct LabeledFile {
  std::string label;
  std::string name;
  fs::path path;
};

bool IsIgnoredFolder(const std::string& name) {
  return name == "unsup" || name.empty() || name[0] == '.';
}

bool IsTextFile(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.path().extension() == ".txt" && entry.is_regular_file(ec);
}

std::vector<fs::directory_entry> ListFolder(const fs::path& folder) {
  std::error_code ec;
  fs::directory_iterator it(folder, ec);
  if (ec) throw DataError(folder.string(), 0, 0, "cannot read directory: " + ec.message());
  std::vector<fs::directory_entry> entries;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    entries.push_back(*it);
  }
  if (ec) throw DataError(folder.string(), 0, 0, "cannot read directory: " + ec.message());
  return entries;
}

void RequireFolder(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    throw DataError(path, 0, 0,
                    "the aclimdb format needs a folder with one subfolder per label (pos/, neg/)");
  }
}

// Immediate subfolders of `root` that may be labels, sorted byte-wise.
std::vector<fs::path> CandidateLabelFolders(const std::string& root) {
  std::vector<fs::path> folders;
  for (const fs::directory_entry& entry : ListFolder(root)) {
    std::error_code ec;
    if (entry.is_directory(ec) && !IsIgnoredFolder(entry.path().filename().string())) {
      folders.push_back(entry.path());
    }
  }
  std::sort(folders.begin(), folders.end());
  return folders;
}

[[noreturn]] void ThrowNoLabels(const std::string& root) {
  throw DataError(root, 0, 0,
                  "no label subfolders: expected subfolders such as pos/ and neg/ holding .txt "
                  "files");
}

}  // namespace

void CheckAclImdbFolder(const std::string& path) {
  RequireFolder(path);
  for (const fs::path& folder : CandidateLabelFolders(path)) {
    const std::vector<fs::directory_entry> entries = ListFolder(folder);
    if (std::any_of(entries.begin(), entries.end(), IsTextFile)) return;
  }
  ThrowNoLabels(path);
}

std::vector<RawExample> ReadAclImdb(const DatasetSource& source) {
  RequireFolder(source.path);
  std::vector<LabeledFile> files;
  for (const fs::path& folder : CandidateLabelFolders(source.path)) {
    const std::string label = folder.filename().string();
    for (const fs::directory_entry& entry : ListFolder(folder)) {
      if (IsTextFile(entry))
        files.push_back({label, entry.path().filename().string(), entry.path()});
    }
  }
  if (files.empty()) ThrowNoLabels(source.path);
  // Sorted by label folder, then file name, byte-wise.
  std::sort(files.begin(), files.end(), [](const LabeledFile& a, const LabeledFile& b) {
    return a.label != b.label ? a.label < b.label : a.name < b.name;
  });

  std::vector<RawExample> examples;
  examples.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string file = files[i].path.string();
    std::error_code ec;
    const uintmax_t size = fs::file_size(files[i].path, ec);
    if (!ec && size > kMaxFieldBytes) {
      throw DataError(file, 0, 0, "file larger than " + std::string(kMaxFieldText));
    }
    RawExample example;
    example.text = ReadTextFile(file);
    example.label = files[i].label;
    example.line = i + 1;
    examples.push_back(std::move(example));
  }
  return examples;
}

}  // namespace ft::data::internal
