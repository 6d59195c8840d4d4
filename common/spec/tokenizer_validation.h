// What SubmitJob checks of JobSpec.tokenizer (defaults applied): the path is a tokenizer.json
// file or a folder holding one, the file parses (common/tokenize, as the worker will load it),
// and its largest id fits the model's vocab_size (a model folder's config.json, a scratch
// model's catalog entry). Each problem names spec.tokenizer and the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ft/v1/job.pb.h"

namespace ft::spec {

// The largest tokenizer.json accepted (the largest real ones, Gemma's, are about 34 MB).
inline constexpr std::uintmax_t kMaxTokenizerFileBytes = 64u << 20;

// The problems found ("spec.tokenizer: ..."); empty when fine or when the field is empty.
std::vector<std::string> TokenizerProblems(const ft::v1::JobSpec& spec);

}  // namespace ft::spec
