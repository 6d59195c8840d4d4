#include "worker/distributed/replica_check.h"

#include <stdexcept>

namespace ft::distributed {

void CheckRanksAgree(Gang& gang, const std::vector<double>& values, const std::string& what) {
  const auto count = static_cast<int64_t>(values.size());
  torch::Tensor highest = torch::tensor(values, torch::kFloat64).reshape({count});
  torch::Tensor negated_lowest = -highest;
  gang.MaxInPlace(highest);
  gang.MaxInPlace(negated_lowest);
  if (!torch::equal(highest, -negated_lowest)) {
    throw std::runtime_error("the ranks of the gang disagree on " + what + " (rank " +
                             std::to_string(gang.rank()) + " of " +
                             std::to_string(gang.world_size()) + " checked)");
  }
}

std::vector<double> ParameterFingerprint(const std::vector<torch::Tensor>& parameters) {
  torch::NoGradGuard no_grad;
  std::vector<double> fingerprint;
  for (const torch::Tensor& parameter : parameters) {
    const torch::Tensor values = parameter.detach().to(torch::kCPU, torch::kFloat64);
    fingerprint.push_back(values.sum().item<double>());
    fingerprint.push_back(values.square().sum().item<double>());
  }
  return fingerprint;
}

}  // namespace ft::distributed
