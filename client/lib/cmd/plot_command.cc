#include "client/lib/cmd/plot_command.h"

#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "client/lib/plot/chart_svg.h"
#include "client/lib/plot/event_log_file.h"
#include "client/lib/rpc/event_log_fetch.h"
#include "client/lib/rpc/rpc_errors.h"
#include "common/util/atomic_file.h"

namespace ft::client {
namespace {

absl::Status WriteSvg(const std::string& path, const std::string& svg) {
  try {
    WriteFileAtomically(path, svg);
  } catch (const std::runtime_error& error) {
    return absl::InternalError(error.what());
  }
  return absl::OkStatus();
}

}  // namespace

int RunPlot(const FtdConnection& ftd, const PlotArgs& args, const Console& console) {
  if (args.job_ids.empty() && args.event_files.empty()) {
    return Fail(console,
                absl::InvalidArgumentError("plot: name at least one job id or --from-events FILE"));
  }
  if (args.out.empty()) {
    return Fail(console, absl::InvalidArgumentError("plot: --out FILE.svg is required"));
  }
  std::vector<JobLog> logs;
  for (const std::string& job_id : args.job_ids) {
    absl::StatusOr<JobLog> log = FetchJobLog(ftd, job_id);
    if (!log.ok()) {
      // ftd's message may not name the job; several may be asked for.
      return Fail(console, absl::Status(log.status().code(), absl::StrCat("plot ", job_id, ": ",
                                                                          log.status().message())));
    }
    logs.push_back(std::move(*log));
  }
  for (const std::string& file : args.event_files) {
    absl::StatusOr<JobLog> log = ReadEventLogFile(file);
    if (!log.ok()) return Fail(console, log.status());
    logs.push_back(std::move(*log));
  }

  TrainingChartOptions options;
  options.x = args.x;
  options.title = args.title;
  const Chart chart = BuildTrainingChart(logs, options);
  const std::string svg = RenderChartSvg(chart);
  for (const std::string& note : chart.notes) *console.err << "ftctl: " << note << std::endl;

  const std::string summary = absl::StrCat(logs.size(), logs.size() == 1 ? " job, " : " jobs, ",
                                           ChartPointCount(chart), " points");
  if (args.out == "-") {
    *console.out << svg << std::flush;
    *console.err << "ftctl: wrote the SVG to stdout: " << summary << std::endl;
    return kExitOk;
  }
  if (absl::Status written = WriteSvg(args.out, svg); !written.ok()) {
    return Fail(console, written);
  }
  *console.out << "wrote " << args.out << ": " << summary << std::endl;
  return kExitOk;
}

}  // namespace ft::client
