#include "common/spec/data_parallel_validation.h"

#include "absl/strings/str_cat.h"
#include "common/spec/spec_limits.h"

namespace ft::spec {

uint32_t WorldSize(const ft::v1::JobSpec& spec) {
  return spec.world_size() == 0 ? 1 : spec.world_size();
}

std::vector<std::string> DataParallelProblems(const ft::v1::JobSpec& spec) {
  std::vector<std::string> problems;
  if (spec.world_size() > kMaxWorldSize) {
    problems.push_back(
        absl::StrCat("spec.world_size: must be 1..", kMaxWorldSize, ", got ", spec.world_size()));
    return problems;
  }
  if (WorldSize(spec) == 1) return problems;
  // Each rank would measure its own memory and could pick another micro-batch size, but the
  // ranks must split every window the same way for their summed gradient to be the window's.
  if (spec.auto_micro_batch()) {
    problems.push_back(
        "spec.auto_micro_batch: not with world_size > 1 (each rank would choose its own "
        "micro_batch_size from its own memory, and the ranks must split every window alike); "
        "give micro_batch_size instead");
  }
  return problems;
}

}  // namespace ft::spec
