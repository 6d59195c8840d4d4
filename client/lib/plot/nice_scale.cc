#include "client/lib/plot/nice_scale.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace ft::client {
namespace {

constexpr double kSnap = 1e-9;  // in steps

// The power of ten of a round step (1, 2 or 5 times 10^k): k.
int DecadeOf(double step) { return static_cast<int>(std::floor(std::log10(step) + 1e-9)); }

}  // namespace

NiceScale MakeNiceScale(double lo, double hi, int max_ticks) {
  // Two ticks cannot cover a range around 0 with multiples of one step; three always can.
  max_ticks = std::max(max_ticks, 3);
  if (!std::isfinite(lo) || !std::isfinite(hi)) {
    lo = 0;
    hi = 1;
  }
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo = lo == 0 ? 0 : lo - pad;
    hi += pad;
  }
  const double range = hi - lo;
  // Start one decade below the coarsest step that could fit, then walk up 1, 2, 5, 10, ...
  double decade = std::pow(10.0, std::floor(std::log10(range / (max_ticks - 1))));
  NiceScale scale;
  for (int tries = 0; tries < 16; ++tries) {
    for (double mantissa : {1.0, 2.0, 5.0}) {
      const double step = mantissa * decade;
      // Ticks are whole multiples of the step. A bound a hair past a multiple (0.30000000000000004
      // for 0.3) counts as on it, so that the axis does not grow by a whole step for rounding.
      double first = std::floor(lo / step);
      if (lo / step - first > 1 - kSnap) first += 1;
      double last = std::ceil(hi / step);
      if (last - hi / step > 1 - kSnap) last -= 1;
      if (last - first + 1 > max_ticks) continue;
      scale.step = step;
      for (double i = first; i <= last; ++i) {
        const double value = i * step;
        scale.ticks.push_back(std::abs(value) < step * kSnap ? 0.0 : value);
      }
      scale.min = scale.ticks.front();
      scale.max = scale.ticks.back();
      return scale;
    }
    decade *= 10;
  }
  // Unreachable for finite input (the range fits in one step at some decade); keep it total.
  scale.min = lo;
  scale.max = hi;
  scale.step = range;
  scale.ticks = {lo, hi};
  return scale;
}

std::string FormatTick(double value, double step) {
  if (!std::isfinite(value)) return "?";
  if (!std::isfinite(step) || step <= 0) return absl::StrFormat("%g", value);
  if (std::abs(value) < step * kSnap) value = 0;  // no "-0"
  if (value == 0) return "0";
  const int decade = DecadeOf(step);
  if (decade >= 6) return absl::StrFormat("%.0fM", value / 1e6);
  if (decade >= 3) return absl::StrFormat("%.0fk", value / 1e3);
  return absl::StrFormat("%.*f", std::max(0, -decade), value);
}

}  // namespace ft::client
