#include "worker/generate/validation_samples.h"

#include <cstdio>

#include "worker/eval/eval_mode_scope.h"
#include "worker/generate/greedy_generate.h"

namespace ft::generate {
namespace {

// Byte offsets of the UTF-8 characters of `text` (continuation bytes are not starts).
std::vector<std::size_t> CharacterStarts(const std::string& text) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts.push_back(i);
  }
  return starts;
}

std::string Escaped(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\x%02X", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string SampleText(const std::string& text, std::size_t max_chars, bool keep_end) {
  const std::vector<std::size_t> starts = CharacterStarts(text);
  if (starts.size() <= max_chars) return Escaped(text);
  if (keep_end) return "..." + Escaped(text.substr(starts[starts.size() - max_chars]));
  return Escaped(text.substr(0, starts[max_chars])) + "...";
}

std::vector<std::string> ValidationSampleLines(models::CausalLmImpl& model,
                                               const train::TokenizedSplit& split,
                                               const train::JobTokenizer& tokenizer,
                                               std::optional<int64_t> eos_id,
                                               const SampleOptions& options) {
  std::vector<std::string> lines;
  const train::EvalModeScope eval_mode(model);
  for (std::size_t i = 0; i < split.prompt_tokens.size() &&
                          static_cast<int64_t>(lines.size()) < options.samples;
       ++i) {
    const int64_t prompt_tokens = split.prompt_tokens[i];
    if (prompt_tokens <= 0) continue;
    std::vector<int64_t> prompt = split.input_ids[i].ToVector();
    prompt.resize(static_cast<std::size_t>(prompt_tokens));
    std::vector<int64_t> completion =
        GreedyGenerate(model, prompt, options.max_new_tokens, eos_id);
    const bool ended = !completion.empty() && eos_id && completion.back() == *eos_id;
    if (ended) completion.pop_back();
    lines.push_back("sample " + std::to_string(lines.size() + 1) + ": " +
                    SampleText(tokenizer.Decode(prompt), options.prompt_chars, true) + " -> " +
                    SampleText(tokenizer.Decode(completion), options.completion_chars, false) +
                    (ended ? " [EOS]" : ""));
  }
  return lines;
}

}  // namespace ft::generate
