#include "worker/adapters/lora_options.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace ft::adapters {

double LoraOptions::Scale() const {
  // PEFT's LoraLayer.update_layer: lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora.
  return use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r);
}

std::vector<std::pair<std::string, std::string>> LoraOptions::Fields() const {
  using Json = nlohmann::json;
  return {
      {"r", Json(r).dump()},
      {"alpha", Json(alpha).dump()},
      {"dropout", Json(dropout).dump()},
      {"target_modules", Json(target_modules).dump()},
      {"use_rslora", Json(use_rslora).dump()},
      {"base_precision", Json(base_precision).dump()},
      {"merge", Json(merge).dump()},
      {"adapter", Json(adapter).dump()},
  };
}

std::string LoraOptionsProblem(const LoraOptions& options) {
  if (!options.enabled) return "";
  if (options.adapter.empty() && (options.r < 1 || options.r > 1024)) {
    return "lora.r must be 1..1024, got " + std::to_string(options.r);
  }
  if (options.adapter.empty() && !(options.alpha > 0)) return "lora.alpha must be > 0";
  if (!(options.dropout >= 0 && options.dropout < 1)) return "lora.dropout must be in [0, 1)";
  if (options.base_precision != "fp32" && options.base_precision != "bf16") {
    return "lora.base_precision must be \"fp32\" or \"bf16\"";
  }
  return "";
}

}  // namespace ft::adapters
