// Documented bounds on JobSpec fields. Shared by validation, ftctl's help and docs/job_spec.md.
#pragma once

#include <cstdint>

namespace ft::spec {

inline constexpr uint32_t kMaxMicroBatchSize = 4096;
inline constexpr uint32_t kMaxAccumulationSteps = 65536;
inline constexpr uint32_t kMaxEffectiveBatchSize = 1u << 20;
inline constexpr uint32_t kMaxEpochs = 1000;
inline constexpr uint32_t kMaxSeqLength = 8192;
inline constexpr double kMaxLearningRate = 10.0;
inline constexpr uint32_t kMaxLogEverySteps = 1000000;
inline constexpr uint32_t kMaxWarmupSteps = 10000000;
inline constexpr uint32_t kMaxEarlyStoppingPatience = 1000000;
// Workers of one data-parallel job (JobSpec.world_size).
inline constexpr uint32_t kMaxWorldSize = 1024;

// Defaults for fields left at zero / empty.
inline constexpr double kDefaultScratchLearningRate = 1e-3;
inline constexpr uint32_t kDefaultMaxSeqLength = 256;
inline constexpr uint32_t kDefaultLogEverySteps = 10;
inline constexpr double kDefaultValidationFraction = 0.1;
inline constexpr const char* kDefaultLrScheduler = "linear";
// Only when early_stopping_patience > 0 or keep_best_model (otherwise the field stays empty).
inline constexpr const char* kDefaultEarlyStoppingMetric = "accuracy";
// LoRA: PEFT's LoraConfig defaults (r = 8, lora_alpha = 8) and the largest rank accepted.
inline constexpr uint32_t kDefaultLoraRank = 8;
inline constexpr double kDefaultLoraAlpha = 8.0;
inline constexpr uint32_t kMaxLoraRank = 1024;

}  // namespace ft::spec
