#include "common/tokenize/vocab.h"

namespace ft::tokenize {

Vocab Vocab::FromJson(const JsonView& node) {
  node.ExpectObject();
  Vocab vocab;
  vocab.ids_.reserve(node.json().size());
  for (const auto& [token, id_json] : node.json().items()) {
    if (!id_json.is_number_integer() || id_json.get<int64_t>() < 0) {
      node[token].Fail("must be a non-negative integer id");
    }
    const int64_t id = id_json.get<int64_t>();
    auto [it, inserted] = vocab.tokens_.emplace(id, token);
    if (!inserted) node[token].Fail("repeats id " + std::to_string(id));
    vocab.ids_.emplace(std::string_view(it->second), id);
    if (id > vocab.max_id_) vocab.max_id_ = id;
  }
  return vocab;
}

const std::string& Vocab::Token(int64_t id) const {
  static const std::string empty;
  const auto found = tokens_.find(id);
  return found == tokens_.end() ? empty : found->second;
}

}  // namespace ft::tokenize
