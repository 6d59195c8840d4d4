// A finished causal language model as a folder (what a causal_lm job exports, or a Hugging Face
// folder of a supported decoder): config.json naming a *ForCausalLM or GPT2LMHeadModel
// architecture, model.safetensors (or its shards) and the tokenizer files, loaded to complete
// prompts greedily. Standard library only (the model stays behind a pointer), so that the CLI
// glue compiles no LibTorch headers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ft::generate {

class CausalLmFolder {
 public:
  // Throws std::runtime_error naming the folder or file: a missing folder, config.json or
  // weights, an architecture that is not a causal LM (an exported classifier), a family without
  // one, a tokenizer.json that cannot be used, a tensor missing from the checkpoint. `log`
  // (may be empty) gets the loader's notes (level, text). threads 0: all cores.
  static std::unique_ptr<CausalLmFolder> Open(
      const std::string& folder, int threads,
      const std::function<void(const std::string&, const std::string&)>& log = {});
  // `folder` may also be a PEFT adapter folder of a causal LM (a LoRA causal_lm job's output):
  // its base_model_name_or_path (a local folder) is loaded with the adapter on top.
  ~CausalLmFolder();
  CausalLmFolder(const CausalLmFolder&) = delete;
  CausalLmFolder& operator=(const CausalLmFolder&) = delete;

  // The prompt's ids as a causal_lm job tokenizes a prompt: with the tokenizer's own special
  // tokens, or without them for text a chat template rendered (it carries its own).
  std::vector<int64_t> Encode(const std::string& text, bool add_special_tokens) const;

  // The greedy completion of `text` (GreedyGenerate, batch 1), decoded without the EOS and other
  // special tokens.
  std::string Complete(const std::string& text, bool add_special_tokens,
                       int64_t max_new_tokens) const;

  std::optional<int64_t> eos_id() const;

 private:
  struct State;
  explicit CausalLmFolder(std::unique_ptr<State> state);
  // The model folder, with the PEFT adapter folder `adapter` on top unless empty.
  static std::unique_ptr<CausalLmFolder> OpenWithAdapter(
      const std::string& folder, const std::string& adapter, int threads,
      const std::function<void(const std::string&, const std::string&)>& log);
  std::unique_ptr<State> state_;
};

}  // namespace ft::generate
