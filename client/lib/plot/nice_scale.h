// Axis scales with round tick values (1, 2 or 5 times a power of ten), as people read charts.
#pragma once

#include <string>
#include <vector>

namespace ft::client {

struct NiceScale {
  double min = 0;  // the axis starts here: the first tick, at or below the data
  double max = 1;  // and ends here: the last tick, at or above the data
  double step = 1;
  std::vector<double> ticks;  // min, min + step, ..., max
};

// A scale covering [lo, hi] (swapped if reversed) with at most `max_ticks` ticks (at least 3),
// using the smallest round step that fits. A single value v gets a small range around it
// ([0, 1] for 0). Non-finite bounds give [0, 1].
NiceScale MakeNiceScale(double lo, double hi, int max_ticks = 6);

// The tick's label with just enough decimals for `step`: "0.25" is never shown as "0.3", "2"
// never as "2.000"; thousands as "20k", millions as "3M" when the step is that coarse; no "-0".
std::string FormatTick(double value, double step);

}  // namespace ft::client
