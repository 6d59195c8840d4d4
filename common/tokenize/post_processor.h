// Post-processors of tokenizer.json for one sequence: TemplateProcessing (its `single`
// template), BertProcessing, RobertaProcessing ([CLS] ... [SEP] / <s> ... </s>), ByteLevel (no
// change to ids) and Sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/tokenize/json_view.h"

namespace ft::tokenize {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens around one sequence's ids.
  virtual void Process(std::vector<int64_t>& ids) const = 0;
  // How many ids Process adds.
  virtual std::size_t AddedCount() const = 0;
};

// nullptr for a JSON null; refuses an unknown type naming the file and path.
std::unique_ptr<PostProcessor> PostProcessorFromJson(const JsonView& node);

}  // namespace ft::tokenize
