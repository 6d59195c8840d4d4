#include "worker/data/job_data.h"

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <utility>

#include "common/data/dataset.h"
#include "worker/data/file_identity.h"
#include "worker/data/job_tokenizer.h"
#include "worker/data/token_cache.h"

namespace ft::train {
namespace {

data::DatasetSource SourceFor(const TrainOptions& options, const std::string& path) {
  data::DatasetSource source;
  source.path = path;
  if (!options.format.empty()) {
    source.format = data::ParseFormat(options.format);
    if (!source.format) {
      throw std::invalid_argument("unknown data format \"" + options.format +
                                  "\" (expected csv, tsv, jsonl or aclimdb)");
    }
  }
  source.text_column = options.text_column;
  source.label_column = options.label_column;
  return source;
}

TokenizedSplit Tokenize(std::string name, const std::string& file,
                        const std::vector<data::RawExample>& examples,
                        const data::LabelMap& label_map, int64_t max_seq_length,
                        const JobTokenizer& tokenizer) {
  TokenizedSplit split;
  split.name = std::move(name);
  split.source = file;
  split.input_ids.reserve(examples.size());
  split.labels.reserve(examples.size());
  for (const data::RawExample& example : examples) {
    split.input_ids.push_back(tokenizer.Encode(example.text, max_seq_length));
    split.labels.push_back(label_map.IdOf(example, file));
  }
  return split;
}

JobData ReadAndTokenize(const TrainOptions& options, JobTokenizer& tokenizer) {
  tokenizer.Load();
  std::vector<data::RawExample> train = data::ReadExamples(SourceFor(options, options.train_path));
  const data::LabelMap label_map = data::LabelMap::Build(train, options.train_path);

  std::vector<data::RawExample> validation;
  std::string validation_file = options.validation_path;
  if (options.validation_path.empty()) {
    validation_file = options.train_path;
    if (options.validation_fraction > 0) {
      auto split = data::SplitSeeded(std::move(train), options.validation_fraction, options.seed);
      train = std::move(split.first);
      validation = std::move(split.second);
    }
  } else {
    validation = data::ReadExamples(SourceFor(options, options.validation_path));
  }
  if (train.empty()) {
    throw data::DataError(options.train_path, 0, 0, "no training examples left after the split");
  }

  JobData job;
  job.label_names = label_map.names();
  job.train =
      Tokenize("train", options.train_path, train, label_map, options.max_seq_length, tokenizer);
  job.validation = Tokenize("validation", validation_file, validation, label_map,
                            options.max_seq_length, tokenizer);
  if (!options.test_path.empty()) {
    const std::vector<data::RawExample> test =
        data::ReadExamples(SourceFor(options, options.test_path));
    job.test =
        Tokenize("test", options.test_path, test, label_map, options.max_seq_length, tokenizer);
  }
  return job;
}

// The splits a job needs, each with its cache key.
struct CacheEntry {
  TokenizedSplit JobData::*split;
  std::string key;
};

std::vector<CacheEntry> CacheEntries(const TrainOptions& options, const JobTokenizer& tokenizer) {
  using Json = nlohmann::ordered_json;
  // Each file is hashed once, though train appears in several keys.
  std::map<std::string, Json> identities;
  const auto identity = [&identities](const std::string& path) {
    auto found = identities.find(path);
    if (found == identities.end()) {
      found = identities.emplace(path, Json::parse(FileIdentity(path))).first;
    }
    return found->second;
  };
  Json common;
  common["tokenizer"] = tokenizer.CacheId();
  common["max_seq_length"] = options.max_seq_length;
  common["format"] = options.format;
  common["text_column"] = options.text_column;
  common["label_column"] = options.label_column;
  // The training file decides the label map of every split.
  common["labels_from"] = identity(options.train_path);
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

JobData LoadJobData(const TrainOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const TokenCache cache(options.token_cache_dir);
  TokenCacheReport report;
  report.dir = cache.dir();
  JobTokenizer tokenizer = JobTokenizer::ForModel(options.model);
  std::vector<CacheEntry> entries;
  if (cache.enabled()) {
    try {
      entries = CacheEntries(options, tokenizer);
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
    job = ReadAndTokenize(options, tokenizer);
    report.misses = static_cast<int64_t>(entries.empty() ? 0 : entries.size());
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
