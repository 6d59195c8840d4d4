#include "worker/data/lm_data.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/data/dataset.h"
#include "common/data/lm_rows.h"
#include "worker/data/cached_job_data.h"
#include "worker/data/job_tokenizer.h"

namespace ft::train {
namespace {

// Encode without truncation: rows are cut after the EOS is appended, as TRL does.
constexpr int64_t kUntruncated = std::numeric_limits<int32_t>::max();

// Names this file's way of turning rows into ids and targets in token-cache keys: change it when
// that way changes, so that no cache entry made the old way is read.
constexpr char kLmTokenizationRules[] = "lm-rows-1";

struct LmExample {
  std::vector<int64_t> ids;
  std::vector<int64_t> targets;  // 0/1 per id
  int64_t prompt_tokens = 0;     // prompt/completion rows: the prompt's share of ids
};

struct SplitCounts {
  int64_t skipped = 0;            // rows without a target token after truncation
  int64_t prompt_mismatches = 0;  // tokenize(prompt) is not a prefix of tokenize(prompt + ...)
};

// The head of max_seq_length tokens; the first token is never a target (nothing before it).
void Truncate(LmExample& example, int64_t max_seq_length) {
  const auto keep = static_cast<std::size_t>(max_seq_length);
  if (example.ids.size() > keep) {
    example.ids.resize(keep);
    example.targets.resize(keep);
  }
  if (!example.targets.empty()) example.targets[0] = 0;
}

// A chat row as TRL tokenizes a conversation: the template's text without the tokenizer's own
// special tokens (the template writes them) and without an extra EOS (the template ends each
// turn). The targets are the tokens inside the assistant spans: a span [b, e) covers tokens
// len(tokenize(text[:b])) .. len(tokenize(text[:e])).
LmExample TokenizeChat(const data::LmRow& row, const JobTokenizer& tokenizer,
                       const TrainOptions& options, const std::string& file) {
  if (!options.chat_renderer) {
    throw data::DataError(file, row.line, 0,
                          "a \"messages\" row needs the model's chat template, and " +
                              options.model + " has none (tokenizer_config.json's chat_template "
                              "or chat_template.jinja)");
  }
  RenderedChat chat;
  try {
    chat = options.chat_renderer.render(row.messages);
  } catch (const std::exception& error) {
    throw data::DataError(file, row.line, 0, error.what());
  }
  LmExample example;
  example.ids = tokenizer.Encode(chat.text, kUntruncated, /*add_special_tokens=*/false);
  example.targets.assign(example.ids.size(), options.train_on_prompt ? 1 : 0);
  if (!options.train_on_prompt) {
    const auto tokens_before = [&](std::size_t end) {
      return std::min(example.ids.size(),
                      tokenizer.Encode(std::string_view(chat.text).substr(0, end), kUntruncated,
                                       /*add_special_tokens=*/false)
                          .size());
    };
    for (const auto& [begin, end] : chat.assistant_spans) {
      const std::size_t first = tokens_before(begin);
      const std::size_t last = tokens_before(end);
      for (std::size_t t = first; t < last; ++t) example.targets[t] = 1;
    }
  }
  Truncate(example, options.max_seq_length);
  return example;
}

LmExample TokenizeRow(const data::LmRow& row, const JobTokenizer& tokenizer,
                      const TrainOptions& options, std::optional<int64_t> eos,
                      const std::string& file, SplitCounts& counts) {
  LmExample example;
  std::size_t prompt_tokens = 0;  // the boundary TRL takes, even where it is no prefix
  switch (row.kind) {
    case data::LmRow::Kind::kPromptCompletion: {
      const std::vector<int64_t> prompt = tokenizer.Encode(row.prompt, kUntruncated);
      example.ids = tokenizer.Encode(row.prompt + row.completion, kUntruncated);
      prompt_tokens = std::min(prompt.size(), example.ids.size());
      if (!std::equal(prompt.begin(), prompt.begin() + static_cast<std::ptrdiff_t>(prompt_tokens),
                      example.ids.begin())) {
        ++counts.prompt_mismatches;
      }
      break;
    }
    case data::LmRow::Kind::kText:
      example.ids = tokenizer.Encode(row.text, kUntruncated);
      break;
    case data::LmRow::Kind::kMessages:
      return TokenizeChat(row, tokenizer, options, file);
  }
  if (eos && (example.ids.empty() || example.ids.back() != *eos)) example.ids.push_back(*eos);
  example.targets.assign(example.ids.size(), 1);
  if (!options.train_on_prompt) std::fill_n(example.targets.begin(), prompt_tokens, 0);
  Truncate(example, options.max_seq_length);
  example.prompt_tokens = static_cast<int64_t>(std::min(prompt_tokens, example.ids.size()));
  return example;
}

TokenizedSplit TokenizeRows(std::string name, const std::string& file,
                            const std::vector<data::LmRow>& rows, const JobTokenizer& tokenizer,
                            const TrainOptions& options, std::optional<int64_t> eos) {
  TokenizedSplit split;
  std::vector<std::string>& notes = split.notes;
  split.name = std::move(name);
  split.source = file;
  SplitCounts counts;
  for (const data::LmRow& row : rows) {
    const LmExample example = TokenizeRow(row, tokenizer, options, eos, file, counts);
    if (std::find(example.targets.begin(), example.targets.end(), 1) == example.targets.end()) {
      ++counts.skipped;
      continue;
    }
    split.input_ids.push_back(example.ids);
    split.target_mask.push_back(example.targets);
    split.prompt_tokens.push_back(example.prompt_tokens);
  }
  if (counts.skipped > 0) {
    notes.push_back(split.name + ": skipped " + std::to_string(counts.skipped) + " of " +
                    std::to_string(rows.size()) + " rows of " + file +
                    " that have no target token within max_seq_length " +
                    std::to_string(options.max_seq_length) +
                    " (the prompt fills it, so the completion would vanish)");
  }
  if (counts.prompt_mismatches > 0) {
    notes.push_back(split.name + ": in " + std::to_string(counts.prompt_mismatches) +
                    " rows the prompt's tokens are not a prefix of prompt + completion's (the "
                    "tokenizer merges across the boundary); the boundary is taken at the "
                    "prompt's token count, as TRL does");
  }
  if (split.empty() && !rows.empty()) {
    throw data::DataError(file, 0, 0,
                          "no " + split.name + " row has a target token within max_seq_length " +
                              std::to_string(options.max_seq_length) +
                              ": raise max_seq_length or shorten the prompts");
  }
  return split;
}

JobData ReadAndTokenize(const TrainOptions& options, JobTokenizer& tokenizer,
                        std::optional<int64_t> eos_token_id) {
  tokenizer.Load();
  std::vector<data::LmRow> train = data::ReadLmRows(options.train_path);
  std::vector<data::LmRow> validation;
  std::string validation_file = options.validation_path;
  if (options.validation_path.empty()) {
    validation_file = options.train_path;
    const std::vector<bool> held_out =
        data::SeededValidationMembers(train.size(), options.validation_fraction, options.seed);
    std::vector<data::LmRow> kept;
    for (std::size_t i = 0; i < train.size(); ++i) {
      (held_out[i] ? validation : kept).push_back(std::move(train[i]));
    }
    train = std::move(kept);
  } else {
    validation = data::ReadLmRows(options.validation_path);
  }
  JobData job;
  job.train = TokenizeRows("train", options.train_path, train, tokenizer, options, eos_token_id);
  job.validation =
      TokenizeRows("validation", validation_file, validation, tokenizer, options, eos_token_id);
  if (!options.test_path.empty()) {
    job.test = TokenizeRows("test", options.test_path, data::ReadLmRows(options.test_path),
                            tokenizer, options, eos_token_id);
  }
  return job;
}

}  // namespace

JobData LoadLmJobData(const TrainOptions& options, std::optional<int64_t> eos_token_id) {
  JobTokenizer tokenizer = JobTokenizer::ForModel(options.model, options.tokenizer);
  // Everything TokenizeRow's result depends on besides the rows themselves.
  const auto settings = [&] {
    nlohmann::ordered_json json;
    json["task"] = "causal_lm";
    json["rules"] = kLmTokenizationRules;
    json["tokenizer"] = tokenizer.CacheId();
    json["max_seq_length"] = options.max_seq_length;
    json["train_on_prompt"] = options.train_on_prompt;
    json["eos_token_id"] = eos_token_id ? nlohmann::ordered_json(*eos_token_id) : nullptr;
    json["chat_template"] = options.chat_renderer.cache_id;
    return json.dump();
  };
  JobData job = LoadThroughTokenCache(options, settings, [&] {
    return ReadAndTokenize(options, tokenizer, eos_token_id);
  });
  for (const TokenizedSplit* split : {&job.train, &job.validation, &job.test}) {
    job.notes.insert(job.notes.end(), split->notes.begin(), split->notes.end());
  }
  if (!eos_token_id) {
    job.notes.push_back("the model's config.json names no eos_token_id: no end-of-sequence token "
                        "is appended to completions and texts");
  }
  return job;
}

}  // namespace ft::train
