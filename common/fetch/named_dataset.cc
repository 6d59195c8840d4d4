#include "common/fetch/named_dataset.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/fetch/file_digest.h"
#include "common/fetch/http_client.h"
#include "common/fetch/numpy_permutation.h"
#include "common/fetch/tar_gz_reader.h"
#include "common/util/atomic_file.h"

namespace ft::fetch {
namespace {

namespace fs = std::filesystem;

struct CatalogEntry {
  std::string name;
  std::string url;
  std::string md5;
  std::string sha1;
};

// Checksums as published for aclImdb_v1.tar.gz (MD5 as torchtext and Paddle list it, SHA-1 as
// d2l lists it).
CatalogEntry BuiltIn(const std::string& name) {
  if (name == "imdb") {
    return {"imdb", "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            "7c2ac02c03563afcf9b574c7e56c153a", "01ada507287d82875905620988597833ad4e0903"};
  }
  return {};
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

CatalogEntry Lookup(const std::string& name, const DatasetFetchOptions& options) {
  CatalogEntry entry = BuiltIn(name);
  if (!options.catalog_file.empty()) {
    std::ifstream in(options.catalog_file);
    if (!in) throw HubError(false, options.catalog_file + ": cannot read the dataset catalogue");
    nlohmann::json catalog;
    try {
      catalog = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      throw HubError(false, options.catalog_file + ": not valid JSON: " + e.what());
    }
    if (catalog.contains(name) && catalog[name].is_object()) {
      const auto& item = catalog[name];
      entry.name = name;
      entry.url = item.value("url", entry.url);
      entry.md5 = item.value("md5", entry.md5);
      entry.sha1 = item.value("sha1", entry.sha1);
    }
  }
  if (!options.endpoint.empty() && !entry.url.empty()) {
    const auto scheme = entry.url.find("://");
    const auto path = entry.url.find('/', scheme + 3);
    std::string endpoint = options.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    entry.url = endpoint + entry.url.substr(path);
  }
  return entry;
}

void Download(const CatalogEntry& entry, const fs::path& archive, const HubLog& log) {
  const fs::path partial = archive.string() + ".incomplete";
  std::error_code ec;
  log("info", "downloading dataset " + entry.name + " from " + entry.url +
                  (fs::exists(partial, ec) ? " (resuming)" : ""));
  HttpRequest request;
  request.url = entry.url;
  HttpResponse response;
  try {
    response = HttpDownloadWithRetries(request, partial.string(), 4, [&](const std::string& why) {
      log("warning", "download of " + entry.name + " interrupted (" + why + "); resuming");
    });
  } catch (const TransferError& e) {
    throw HubError(false, "dataset " + entry.name + ": " + e.what());
  }
  if (response.status == 404) throw HubError(true, entry.url + ": not found (HTTP 404)");
  if (response.status != 200 && response.status != 206 && response.status != 416) {
    throw HubError(false, entry.url + ": HTTP " + std::to_string(response.status));
  }
  const std::string md5 = FileDigest(partial.string(), DigestKind::kMd5);
  const std::string sha1 = FileDigest(partial.string(), DigestKind::kSha1);
  if ((!entry.md5.empty() && md5 != entry.md5) || (!entry.sha1.empty() && sha1 != entry.sha1)) {
    fs::remove(partial, ec);
    throw HubError(false, "dataset " + entry.name + ": " + entry.url +
                              " is not the published archive (MD5 " + md5 + ", expected " +
                              entry.md5 + "; SHA-1 " + sha1 + ", expected " + entry.sha1 +
                              "); removed");
  }
  fs::rename(partial, archive);
}

// Python's text mode reads "\r\n" and "\r" as "\n"; the seed read the reviews that way.
std::string UniversalNewlines(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r') {
      out += '\n';
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

struct Review {
  std::string name;
  std::string text;
};

void WriteSplit(const fs::path& path, const std::vector<const Review*>& reviews,
                const std::vector<int>& labels) {
  try {
    AtomicFileWriter out(path.string(), ".tmp" + std::to_string(::getpid()));
    out.Write("text,label\n");
    for (size_t i = 0; i < reviews.size(); ++i) {
      out.Write(CsvField(reviews[i]->text) + ',' + std::to_string(labels[i]) + '\n');
    }
    out.Commit();
  } catch (const std::runtime_error& error) {
    throw HubError(false, error.what());
  }
}

// The seed's split of an aclImdb archive into train.csv, val.csv and test.csv beside it.
void BuildImdbSplits(const fs::path& archive, const fs::path& folder) {
  // Groups in the seed's reading order; pos = 1, neg = 0.
  const std::array<std::string, 4> groups = {"aclImdb/test/pos/", "aclImdb/test/neg/",
                                             "aclImdb/train/pos/", "aclImdb/train/neg/"};
  const std::array<int, 4> group_labels = {1, 0, 1, 0};
  std::array<std::vector<Review>, 4> reviews;
  ReadTarGz(
      archive.string(),
      [&](const std::string& path, int64_t) {
        if (path.size() < 4 || path.compare(path.size() - 4, 4, ".txt") != 0) return false;
        for (const std::string& group : groups) {
          if (path.rfind(group, 0) == 0 && path.find('/', group.size()) == std::string::npos) {
            return true;
          }
        }
        return false;
      },
      [&](const std::string& path, std::string content) {
        for (size_t g = 0; g < groups.size(); ++g) {
          if (path.rfind(groups[g], 0) == 0) {
            reviews[g].push_back({path.substr(groups[g].size()), UniversalNewlines(content)});
          }
        }
      });
  std::vector<const Review*> all;
  std::vector<int> labels;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (reviews[g].empty()) {
      throw HubError(false, archive.string() + ": no reviews under " + groups[g]);
    }
    // Python's sorted() on the names: code-point order, which is byte order for UTF-8.
    std::sort(reviews[g].begin(), reviews[g].end(),
              [](const Review& a, const Review& b) { return a.name < b.name; });
    for (const Review& review : reviews[g]) {
      all.push_back(&review);
      labels.push_back(group_labels[g]);
    }
  }
  const auto order = NumpyLegacyPermutation(1, static_cast<int64_t>(all.size()));
  const size_t train_count = all.size() * 7 / 10;
  const size_t validation_count = all.size() / 10;
  auto split = [&](size_t begin, size_t end, const char* file) {
    std::vector<const Review*> part;
    std::vector<int> part_labels;
    for (size_t i = begin; i < end; ++i) {
      part.push_back(all[static_cast<size_t>(order[i])]);
      part_labels.push_back(labels[static_cast<size_t>(order[i])]);
    }
    WriteSplit(folder / file, part, part_labels);
  };
  // test.csv last: the three files together mark a finished build.
  split(0, train_count, "train.csv");
  split(train_count, train_count + validation_count, "val.csv");
  split(train_count + validation_count, all.size(), "test.csv");
}

}  // namespace

DatasetFetchOptions DatasetFetchOptions::FromEnvironment(const std::string& default_cache_dir) {
  DatasetFetchOptions options;
  options.cache_dir = Env("FT_DATASETS_CACHE");
  if (options.cache_dir.empty()) options.cache_dir = default_cache_dir;
  options.endpoint = Env("FT_DATASETS_ENDPOINT");
  options.catalog_file = Env("FT_DATASETS_CATALOG");
  options.offline = !Env("FT_OFFLINE").empty() && Env("FT_OFFLINE") != "0";
  if (Env("HF_DATASETS_OFFLINE") == "1") options.offline = true;
  return options;
}

std::vector<std::string> NamedDatasets() { return {"imdb"}; }

bool IsNamedDataset(const std::string& name) {
  const auto names = NamedDatasets();
  return std::find(names.begin(), names.end(), name) != names.end();
}

NamedDatasetSplits FetchNamedDataset(const std::string& name, const DatasetFetchOptions& options,
                                     const HubLog& log) {
  if (!IsNamedDataset(name)) {
    throw HubError(true, "dataset '" + name + "' is not a named dataset (known: imdb)");
  }
  const fs::path folder = fs::path(options.cache_dir) / name;
  NamedDatasetSplits splits{(folder / "train.csv").string(), (folder / "val.csv").string(),
                            (folder / "test.csv").string()};
  std::error_code ec;
  if (fs::exists(splits.train, ec) && fs::exists(splits.validation, ec) &&
      fs::exists(splits.test, ec)) {
    return splits;
  }
  if (options.offline) {
    throw HubError(true, "dataset " + name + ": offline and " + folder.string() +
                             " does not hold train.csv, val.csv and test.csv");
  }
  const CatalogEntry entry = Lookup(name, options);
  fs::create_directories(folder, ec);
  const fs::path archive = folder / fs::path(entry.url).filename();
  if (!fs::exists(archive, ec)) Download(entry, archive, log);
  log("info", "building the " + name + " splits from " + archive.filename().string());
  BuildImdbSplits(archive, folder);
  fs::remove(archive, ec);  // the three CSV files hold everything the splits need
  return splits;
}

}  // namespace ft::fetch
