#include "common/models/lora_targets.h"

namespace ft::models {
namespace {

struct FamilyTargets {
  std::vector<std::string> valid;
  std::vector<std::string> defaults;
};

const FamilyTargets& TargetsOf(ModelFamily family) {
  static const FamilyTargets kBloom = {
      {"query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"}, {"query_key_value"}};
  static const FamilyTargets kGpt2 = {{"c_attn", "c_proj", "c_fc"}, {"c_attn"}};
  static const FamilyTargets kLlama = {
      {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"},
      {"q_proj", "v_proj"}};
  static const FamilyTargets kBert = {{"query", "key", "value", "dense"}, {"query", "value"}};
  static const FamilyTargets kDistilBert = {
      {"q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"}, {"q_lin", "v_lin"}};
  static const FamilyTargets kNone;
  switch (family) {
    case ModelFamily::kBloom: return kBloom;
    case ModelFamily::kGpt2: return kGpt2;
    case ModelFamily::kLlama: return kLlama;
    case ModelFamily::kBert:
    case ModelFamily::kRoberta: return kBert;
    case ModelFamily::kDistilBert: return kDistilBert;
    case ModelFamily::kTorchScript: return kNone;
  }
  return kNone;
}

}  // namespace

const std::vector<std::string>& LoraTargetModules(ModelFamily family) {
  return TargetsOf(family).valid;
}

const std::vector<std::string>& DefaultLoraTargets(ModelFamily family) {
  return TargetsOf(family).defaults;
}

std::string JoinedLoraTargets(ModelFamily family) {
  std::string joined;
  for (const std::string& name : LoraTargetModules(family)) {
    if (!joined.empty()) joined += ", ";
    joined += name;
  }
  return joined;
}

}  // namespace ft::models
