#include "worker/data/job_data.h"

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "common/data/dataset.h"
#include "worker/data/cached_job_data.h"
#include "worker/data/job_tokenizer.h"

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

}  // namespace

JobData LoadJobData(const TrainOptions& options) {
  JobTokenizer tokenizer = JobTokenizer::ForModel(options.model, options.tokenizer);
  const auto settings = [&] {
    nlohmann::ordered_json json;
    json["task"] = "sequence_classification";
    json["tokenizer"] = tokenizer.CacheId();
    json["max_seq_length"] = options.max_seq_length;
    json["format"] = options.format;
    json["text_column"] = options.text_column;
    json["label_column"] = options.label_column;
    return json.dump();
  };
  return LoadThroughTokenCache(options, settings,
                               [&] { return ReadAndTokenize(options, tokenizer); });
}

}  // namespace ft::train
