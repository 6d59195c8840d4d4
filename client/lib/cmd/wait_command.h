// `ftctl wait ID`: blocks until the job ends, quietly, then prints its final summary (or the job
// with -o json|yaml). The exit code is the job's outcome: 0 SUCCEEDED, 1 FAILED, 5 CANCELLED;
// 7 when --timeout runs out first (the job goes on); 130 on Ctrl-C.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"

namespace ft::client {

struct WaitArgs {
  std::string job_id;
  absl::Duration timeout = absl::InfiniteDuration();
  OutputFormat output = OutputFormat::kTable;
};

int RunWait(const FtdConnection& ftd, const WaitArgs& args, const Console& console,
            CancelToken* token);

}  // namespace ft::client
