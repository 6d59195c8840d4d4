// ftctl's verbs, one function each, over a FinetuneService stub. Each prints its result on the
// console and returns the process exit code (see rpc_errors.h).
#pragma once

#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "client/lib/config/spec_flags.h"
#include "client/lib/display/sparkline.h"
#include "client/lib/display/terminal_style.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"
#include "ft/v1/job.pb.h"

namespace ft::client {

// Where a command writes.
struct Console {
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
  bool live = false;  // stdout is a terminal: `watch` draws a progress line redrawn in place
  SparkGlyphs glyphs = SparkGlyphs::kAscii;  // for the loss sparkline on that line
  std::function<int()> terminal_width = [] { return 80; };
  Palette palette;  // colours: enabled only for a terminal (see terminal_style.h)
};

// -o: table (for people), json (protobuf's JSON mapping), yaml (the same data), ids (one job id a
// line, for scripts and shell completion).
enum class OutputFormat { kTable, kJson, kYaml, kIds };

struct SubmitArgs {
  SpecFlags flags;
  std::string spec_file;   // -f: a JobSpec in protobuf JSON ("-": stdin); flags override it
  std::string request_id;  // empty: a random one
  std::string cwd;         // relative dataset paths are resolved against it
  bool watch = false;      // follow the job after submitting it
  OutputFormat output = OutputFormat::kTable;  // table and ids: the id alone
};

struct ListArgs {
  std::vector<ft::v1::JobState> states;  // empty: all
  uint32_t limit = 100;                  // 0: all
  OutputFormat output = OutputFormat::kTable;
};

struct GetArgs {
  std::string job_id;
  OutputFormat output = OutputFormat::kTable;
};

struct CancelArgs {
  std::string job_id;
  std::string reason;
};

struct DeleteArgs {
  std::string job_id;
};

struct WatchArgs {
  std::string job_id;
  uint64_t after_seq = 0;
};

// Prints the new job's id (alone on its line), or with -o json|yaml the new job; with `watch`,
// then follows it like RunWatch.
int RunSubmit(const FtdConnection& ftd, const SubmitArgs& args, const Console& console,
              CancelToken* token);
int RunList(const FtdConnection& ftd, const ListArgs& args, const Console& console);
int RunGet(const FtdConnection& ftd, const GetArgs& args, const Console& console);
// Prints "<id> <new state>".
int RunCancel(const FtdConnection& ftd, const CancelArgs& args, const Console& console);
// Prints "<id> deleted (<bytes> bytes freed)".
int RunDelete(const FtdConnection& ftd, const DeleteArgs& args, const Console& console);
// Follows the job to its end and prints a final summary. 0 only when it SUCCEEDED; 1 FAILED,
// 5 CANCELLED, 130 when interrupted (the job goes on).
int RunWatch(const FtdConnection& ftd, const WatchArgs& args, const Console& console,
             CancelToken* token);

// Prints one job (get, submit, wait, retry) in `format`: json/yaml as the protobuf JSON mapping,
// ids as the id alone, table as `table_text`.
int PrintJob(const ft::v1::Job& job, OutputFormat format, const std::string& table_text,
             const Console& console);

// Prints "ftctl: <message>" on stderr and returns its exit code.
int Fail(const Console& console, const absl::Status& status);

}  // namespace ft::client
