#include "worker/data/cached_job_data.h"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "worker/data/file_identity.h"
#include "worker/data/token_cache.h"

namespace ft::train {
namespace {

// A split the job needs, with its cache key.
struct CacheEntry {
  TokenizedSplit JobData::*split;
  std::string key;
};

std::vector<CacheEntry> CacheEntries(const TrainOptions& options, const std::string& settings) {
  using Json = nlohmann::ordered_json;
  // Each file is hashed once, though train appears in every key.
  std::map<std::string, Json> identities;
  const auto identity = [&identities](const std::string& path) {
    auto found = identities.find(path);
    if (found == identities.end()) {
      found = identities.emplace(path, Json::parse(FileIdentity(path))).first;
    }
    return found->second;
  };
  Json common = Json::parse(settings);
  // The training file decides the label map of every split, and is the source of a seeded one.
  common["train_file"] = identity(options.train_path);
  const bool seeded = options.validation_path.empty();

  const auto key = [&](const std::string& split, const std::string* own_file) {
    Json json = common;
    json["split"] = split;
    if (own_file != nullptr) {
      json["file"] = identity(*own_file);
    } else {
      json["validation_fraction"] = options.validation_fraction;
      json["split_seed"] = options.seed;
    }
    return json.dump();
  };
  std::vector<CacheEntry> entries;
  if (seeded) {
    // The seeded split depends on the fraction and the seed; without one, train is the file.
    if (options.validation_fraction > 0) {
      entries.push_back({&JobData::train, key("train", nullptr)});
      entries.push_back({&JobData::validation, key("validation", nullptr)});
    } else {
      entries.push_back({&JobData::train, key("train", &options.train_path)});
    }
  } else {
    entries.push_back({&JobData::train, key("train", &options.train_path)});
    entries.push_back({&JobData::validation, key("validation", &options.validation_path)});
  }
  if (!options.test_path.empty()) {
    entries.push_back({&JobData::test, key("test", &options.test_path)});
  }
  return entries;
}

// Every entry from the cache, or nullopt when one is missing (or their label maps disagree).
std::optional<JobData> LoadAllFromCache(const TokenCache& cache,
                                        const std::vector<CacheEntry>& entries,
                                        TokenCacheReport& report) {
  JobData job;
  bool first = true;
  for (const CacheEntry& entry : entries) {
    std::optional<CachedSplit> cached = cache.Load(entry.key, report.warnings);
    if (!cached || (!first && cached->label_names != job.label_names)) return std::nullopt;
    first = false;
    job.label_names = std::move(cached->label_names);
    job.*(entry.split) = std::move(cached->split);
  }
  if (job.validation.name.empty()) {  // validation_fraction 0: none
    job.validation.name = "validation";
    job.validation.source = job.train.source;
  }
  return job;
}

}  // namespace

JobData LoadThroughTokenCache(const TrainOptions& options,
                              const std::function<std::string()>& settings,
                              const std::function<JobData()>& read_and_tokenize) {
  const auto start = std::chrono::steady_clock::now();
  const TokenCache cache(options.token_cache_dir);
  TokenCacheReport report;
  report.dir = cache.dir();
  std::vector<CacheEntry> entries;
  if (cache.enabled()) {
    try {
      entries = CacheEntries(options, settings());
    } catch (const std::exception& error) {
      // Unreadable files fail below, with the reader's message.
      report.warnings.push_back(std::string("token cache: not used: ") + error.what());
    }
  }
  std::optional<JobData> job;
  if (!entries.empty()) job = LoadAllFromCache(cache, entries, report);
  if (job) {
    report.hits = static_cast<int64_t>(entries.size());
  } else {
    job = read_and_tokenize();
    report.misses = static_cast<int64_t>(entries.size());
    for (const CacheEntry& entry : entries) {
      if (cache.Store(entry.key, (*job).*(entry.split), job->label_names, report.warnings)) {
        ++report.written;
      }
    }
  }
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  job->token_cache = std::move(report);
  return std::move(*job);
}

}  // namespace ft::train
