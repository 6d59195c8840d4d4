// GPT-2's byte-level scheme: the pre-tokenization regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// written out as code (RE2 has no look-ahead; this is also several times faster than a regex
// engine), and the map of the 256 byte values to printable characters.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/tokenize/pattern.h"

namespace ft::tokenize {

// The matches of GPT-2's pattern in `text`: consecutive ranges that cover all of it.
std::vector<ByteRange> Gpt2Split(std::string_view text);

// Appends the byte-level form of `bytes`: each byte as its printable character (UTF-8).
void AppendByteLevel(std::string_view bytes, std::string& out);

// The printable character (UTF-8) that stands for `byte`.
const std::string& ByteLevelChar(unsigned char byte);

}  // namespace ft::tokenize
