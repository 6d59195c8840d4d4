// `ftworker generate`: a greedy completion of one prompt by a finished causal-LM folder, the
// prompt optionally rendered by the folder's chat template as one user turn with the generation
// prompt. Daemon glue: it links the template engine (common/chat).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"

namespace ft::generate {

struct GenerateCommandOptions {
  std::string model_dir;
  std::string prompt;
  int64_t max_new_tokens = 64;
  bool chat = false;  // render the prompt with the folder's chat template
  int threads = 0;    // 0: all cores
  // The model loader's notes (level, text), e.g. a fresh LM head; may be empty.
  std::function<void(const std::string&, const std::string&)> log;
};

// The completion text. InvalidArgument naming the folder or file for a folder that is not a
// causal LM's (missing, a classifier, no chat template with chat, a template that refuses),
// FailedPrecondition for a model that fails while generating.
absl::StatusOr<std::string> RunGenerateCommand(const GenerateCommandOptions& options);

}  // namespace ft::generate
