#include "common/tokenize/model.h"

namespace ft::tokenize {

std::unique_ptr<Model> ModelFromJson(const JsonView& node) {
  node.ExpectObject();
  std::string type = node["type"].String("");
  if (type.empty()) {  // older files leave the type out; the fields tell
    if (node.Has("merges")) {
      type = "BPE";
    } else if (node.Has("continuing_subword_prefix")) {
      type = "WordPiece";
    } else {
      node["type"].Fail("is missing and the fields do not say which model this is");
    }
  }
  if (type == "BPE") return BpeModelFromJson(node);
  if (type == "WordPiece") return WordPieceModelFromJson(node);
  if (type == "WordLevel") return WordLevelModelFromJson(node);
  node.Unsupported("model");
}

}  // namespace ft::tokenize
