#include "worker/models/alibi.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ft::models {
namespace {

// The ratio of the geometric slope sequence for a power-of-two head count.
double SlopeRatio(int64_t power_of_two_heads) {
  return std::pow(2.0, -8.0 / static_cast<double>(power_of_two_heads));
}

}  // namespace

std::vector<float> AlibiSlopes(int64_t num_heads) {
  if (num_heads < 1) throw std::invalid_argument("ALiBi needs at least one head");
  int64_t closest_power_of_two = 1;
  while (closest_power_of_two * 2 <= num_heads) closest_power_of_two *= 2;

  std::vector<float> slopes;
  slopes.reserve(num_heads);
  const double ratio = SlopeRatio(closest_power_of_two);
  for (int64_t power = 1; power <= closest_power_of_two; ++power) {
    slopes.push_back(static_cast<float>(std::pow(ratio, static_cast<double>(power))));
  }
  const double extra_ratio = SlopeRatio(2 * closest_power_of_two);
  const int64_t remaining = std::min(closest_power_of_two, num_heads - closest_power_of_two);
  for (int64_t i = 0; i < remaining; ++i) {
    slopes.push_back(static_cast<float>(std::pow(extra_ratio, static_cast<double>(2 * i + 1))));
  }
  return slopes;
}

}  // namespace ft::models
