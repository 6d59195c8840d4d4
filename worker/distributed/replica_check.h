// Checks that the ranks of a gang agree: the same parameters before a checkpoint (rank 0 writes
// it for all of them), the same step after a resume. Each check costs two tiny all-reduces.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "worker/distributed/gang.h"

namespace ft::distributed {

// Throws std::runtime_error naming `what` when some rank's `values` differ from another's
// (compared exactly: the element-wise maximum across ranks equals the minimum).
void CheckRanksAgree(Gang& gang, const std::vector<double>& values, const std::string& what);

// Per parameter, the sum and the sum of squares of its values in float64: equal on every rank
// whose parameters are bit-identical.
std::vector<double> ParameterFingerprint(const std::vector<torch::Tensor>& parameters);

}  // namespace ft::distributed
