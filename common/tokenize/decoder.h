// The `decoder` of tokenizer.json: turns the tokens of generated ids back into text with the
// Rust library's semantics (decode_chain on the token strings, then joined): ByteLevel,
// Metaspace, ByteFallback, Fuse, Strip, Replace, WordPiece and Sequence of them. Standard
// library only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/tokenize/json_view.h"

namespace ft::tokenize {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // The Rust library's decode_chain: the tokens rewritten (possibly merged into fewer).
  virtual std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const = 0;
};

// Null for a null node; refuses an unsupported type naming the file and JSON path.
std::unique_ptr<Decoder> DecoderFromJson(const JsonView& node);

// The text of `tokens`: the decoder's chain joined, or without a decoder the tokens joined by
// spaces, as the Rust library's TokenizerImpl::decode.
std::string DecodeTokens(const Decoder* decoder, std::vector<std::string> tokens);

}  // namespace ft::tokenize
