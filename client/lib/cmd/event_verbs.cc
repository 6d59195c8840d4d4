#include "client/lib/cmd/event_verbs.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/lib/format/event_format.h"
#include "client/lib/format/text_util.h"
#include "client/lib/format/yaml_writer.h"
#include "client/lib/rpc/event_log_fetch.h"
#include "client/lib/rpc/job_follower.h"
#include "client/lib/rpc/rpc_errors.h"
#include "google/protobuf/util/json_util.h"

namespace ft::client {
namespace {

// Prints each event as it comes; a failure to render one is kept for the end.
class EventPrinter final : public WatchDisplay {
 public:
  EventPrinter(const EventsArgs& args, const Console& console) : args_(args), console_(console) {}

  void OnEvent(const ft::v1::JobEvent& event) override {
    if (event.seq() <= args_.after_seq) return;
    if (args_.logs_only && !event.has_log()) return;
    absl::StatusOr<std::string> text =
        RenderEvent(event, args_.output, args_.logs_only, console_.palette);
    if (!text.ok()) {
      if (error_.ok()) error_ = text.status();
      return;
    }
    *console_.out << *text << std::flush;
  }
  void Note(std::ostream& stream, const std::string& line) override {
    console_.out->flush();
    stream << line << std::endl;
  }
  void Close() override { console_.out->flush(); }

  const absl::Status& error() const { return error_; }

 private:
  const EventsArgs& args_;
  const Console& console_;
  absl::Status error_;
};

}  // namespace

std::string FormatLogLine(const ft::v1::JobEvent& event, const Palette& palette) {
  std::string line;
  if (event.has_time() && (event.time().seconds() != 0 || event.time().nanos() != 0)) {
    const absl::Time time =
        absl::FromUnixSeconds(event.time().seconds()) + absl::Nanoseconds(event.time().nanos());
    line = absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", time, absl::UTCTimeZone()), " ");
  }
  const std::string level = event.log().level().empty() ? "info" : event.log().level();
  const Color color =
      level == "error" ? Color::kRed : (level == "warning" ? Color::kYellow : Color::kNone);
  absl::StrAppend(&line, palette.Paint(color, level + ":"), " ", event.log().message());
  return line;
}

absl::StatusOr<std::string> RenderEvent(const ft::v1::JobEvent& event, OutputFormat format,
                                        bool logs_only, const Palette& palette) {
  switch (format) {
    case OutputFormat::kJson: {
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      options.always_print_primitive_fields = true;
      std::string json;
      const auto status = google::protobuf::util::MessageToJsonString(event, &json, options);
      if (!status.ok()) {
        return absl::InternalError(absl::StrCat("cannot print event as JSON: ", status.ToString()));
      }
      return json + "\n";
    }
    case OutputFormat::kYaml: {
      absl::StatusOr<std::string> yaml = MessageToYaml(event);
      if (!yaml.ok()) return yaml.status();
      return absl::StrCat("---\n", *yaml);
    }
    case OutputFormat::kIds:
      return absl::StrCat(event.seq(), "\n");
    case OutputFormat::kTable:
      break;
  }
  if (logs_only) return FormatLogLine(event, palette) + "\n";
  std::string line = FormatEventLine(event);
  if (event.has_state_change() && palette.enabled()) {
    const std::string name = StateName(event.state_change().to());
    const size_t at = line.rfind(name);
    if (at != std::string::npos)
      line.replace(at, name.size(), palette.State(event.state_change().to()));
  }
  return line + "\n";
}

int RunEvents(const FtdConnection& ftd, const EventsArgs& args, const Console& console,
              CancelToken* token) {
  absl::StatusOr<ft::v1::Job> job = GetJob(ftd, args.job_id);
  if (!job.ok()) return Fail(console, job.status());
  EventPrinter printer(args, console);

  // An ended job (or a snapshot): what is stored, then done.
  if (!args.follow || IsFinalState(job->state())) {
    absl::StatusOr<JobLog> log = FetchJobLog(ftd, args.job_id);
    if (!log.ok()) return Fail(console, log.status());
    for (const ft::v1::JobEvent& event : log->events) printer.OnEvent(event);
    printer.Close();
    return printer.error().ok() ? kExitOk : Fail(console, printer.error());
  }

  FollowOptions options;
  options.job_id = args.job_id;
  options.after_seq = args.after_seq;
  if (token != nullptr) token->Arm(true);
  absl::StatusOr<ft::v1::JobState> state = FollowJob(ftd, options, printer, *console.err, token);
  if (token != nullptr) token->Arm(false);
  printer.Close();
  if (!state.ok()) {
    if (state.status().code() == absl::StatusCode::kCancelled && token != nullptr &&
        token->cancelled()) {
      return kExitInterrupted;
    }
    return Fail(console, state.status());
  }
  return printer.error().ok() ? kExitOk : Fail(console, printer.error());
}

}  // namespace ft::client
