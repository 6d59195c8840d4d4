// `ftctl plot`: jobs' training loss and validation accuracy as one SVG file.
#pragma once

#include <string>
#include <vector>

#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/plot/training_chart.h"

namespace ft::client {

struct PlotArgs {
  std::vector<std::string> job_ids;      // fetched from ftd (WatchJob)
  std::vector<std::string> event_files;  // events.jsonl files, read offline
  std::string out;                       // the SVG file; "-" for stdout
  PlotX x = PlotX::kStep;
  std::string title;  // empty: a default
};

// Reads every log (jobs first, then files, in the order given), draws them and writes `out`
// (through a temporary file renamed into place). Prints "wrote FILE: ..." on stdout (stderr when
// the SVG goes to stdout) and a line per note (skipped non-finite values) on stderr. Exit codes
// as for the other verbs: 2 for an unknown job, a bad file or bad arguments, 3 when ftd cannot be
// reached, 1 when the SVG cannot be written.
int RunPlot(const FtdConnection& ftd, const PlotArgs& args, const Console& console);

}  // namespace ft::client
