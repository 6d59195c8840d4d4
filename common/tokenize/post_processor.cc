#include "common/tokenize/post_processor.h"

#include <map>
#include <string>

namespace ft::tokenize {
namespace {

// Ids before and after the sequence.
class WrapProcessor : public PostProcessor {
 public:
  WrapProcessor(std::vector<int64_t> before, std::vector<int64_t> after)
      : before_(std::move(before)), after_(std::move(after)) {}

  void Process(std::vector<int64_t>& ids) const override {
    ids.insert(ids.begin(), before_.begin(), before_.end());
    ids.insert(ids.end(), after_.begin(), after_.end());
  }
  std::size_t AddedCount() const override { return before_.size() + after_.size(); }

 private:
  std::vector<int64_t> before_;
  std::vector<int64_t> after_;
};

// ["[CLS]", 101] of BertProcessing / RobertaProcessing.
int64_t SpecialId(const JsonView& node) {
  node.ExpectArray();
  if (node.Size() != 2) node.Fail("must be [token, id]");
  return node.At(1).Int();
}

std::unique_ptr<PostProcessor> TemplateFromJson(const JsonView& node) {
  // special_tokens: name -> {"id": name, "ids": [...], "tokens": [...]}
  std::map<std::string, std::vector<int64_t>> specials;
  const JsonView special_tokens = node["special_tokens"];
  if (!special_tokens.is_null()) {
    special_tokens.ExpectObject();
    for (const auto& item : special_tokens.json().items()) {
      const JsonView ids = special_tokens[item.key()]["ids"];
      ids.ExpectArray();
      std::vector<int64_t>& list = specials[item.key()];
      for (std::size_t i = 0; i < ids.Size(); ++i) list.push_back(ids.At(i).Int());
    }
  }
  const JsonView single = node["single"];
  std::vector<int64_t> before, after;
  bool seen_sequence = false;
  const auto add_special = [&](const std::string& name, const JsonView& where) {
    const auto found = specials.find(name);
    if (found == specials.end()) {
      where.Fail("names \"" + name + "\", which special_tokens does not define");
    }
    std::vector<int64_t>& target = seen_sequence ? after : before;
    target.insert(target.end(), found->second.begin(), found->second.end());
  };
  const auto add_sequence = [&](const std::string& name, const JsonView& where) {
    if (name != "A") where.Fail("uses sequence \"" + name + "\" in the single template");
    if (seen_sequence) where.Fail("has the sequence twice");
    seen_sequence = true;
  };
  if (single.json().is_string()) {  // "[CLS]:0 $A:0 [SEP]:0"
    const std::string text = single.String();
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t space = text.find(' ', pos);
      std::string piece =
          text.substr(pos, space == std::string::npos ? std::string::npos : space - pos);
      pos = space == std::string::npos ? text.size() : space + 1;
      if (piece.empty()) continue;
      const std::size_t colon = piece.rfind(':');
      if (colon != std::string::npos && colon > 0) piece = piece.substr(0, colon);
      if (piece[0] == '$') {
        add_sequence(piece.size() == 1 ? "A" : piece.substr(1), single);
      } else {
        add_special(piece, single);
      }
    }
  } else {
    single.ExpectArray();
    for (std::size_t i = 0; i < single.Size(); ++i) {
      const JsonView item = single.At(i);
      if (item.Has("SpecialToken")) {
        add_special(item["SpecialToken"]["id"].String(), item);
      } else if (item.Has("Sequence")) {
        add_sequence(item["Sequence"]["id"].String(), item);
      } else {
        item.Fail("must be a SpecialToken or a Sequence");
      }
    }
  }
  if (!seen_sequence) single.Fail("has no sequence $A");
  return std::make_unique<WrapProcessor>(std::move(before), std::move(after));
}

class SequenceProcessor : public PostProcessor {
 public:
  explicit SequenceProcessor(const JsonView& node) {
    const JsonView list = node["processors"];
    list.ExpectArray();
    for (std::size_t i = 0; i < list.Size(); ++i) {
      std::unique_ptr<PostProcessor> step = PostProcessorFromJson(list.At(i));
      if (step) steps_.push_back(std::move(step));
    }
  }
  void Process(std::vector<int64_t>& ids) const override {
    for (const auto& step : steps_) step->Process(ids);
  }
  std::size_t AddedCount() const override {
    std::size_t count = 0;
    for (const auto& step : steps_) count += step->AddedCount();
    return count;
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

}  // namespace

std::unique_ptr<PostProcessor> PostProcessorFromJson(const JsonView& node) {
  if (node.is_null()) return nullptr;
  node.ExpectObject();
  const std::string type = node["type"].String();
  if (type == "TemplateProcessing") return TemplateFromJson(node);
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    return std::make_unique<WrapProcessor>(std::vector<int64_t>{SpecialId(node["cls"])},
                                           std::vector<int64_t>{SpecialId(node["sep"])});
  }
  if (type == "ByteLevel") {  // offsets only
    return std::make_unique<WrapProcessor>(std::vector<int64_t>{}, std::vector<int64_t>{});
  }
  if (type == "Sequence") return std::make_unique<SequenceProcessor>(node);
  node.Unsupported("post-processor");
}

}  // namespace ft::tokenize
