// The vocabulary size of a model configuration, wherever its family keeps it.
#pragma once

#include <cstdint>

#include "common/models/model_config.h"

namespace ft::models {

inline int64_t VocabSize(const ModelConfig& config) {
  return config.family == ModelFamily::kBloom ? config.bloom.vocab_size
                                              : config.transformer.vocab_size;
}

}  // namespace ft::models
