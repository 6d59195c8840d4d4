// `ftctl retry ID`: submits a FAILED or CANCELLED job's spec again, as a new job, and prints the
// new id. A job that is queued, running or succeeded is refused (exit 6) unless `force`.
#pragma once

#include <string>

#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"

namespace ft::client {

struct RetryArgs {
  std::string job_id;
  bool force = false;      // resubmit whatever the state
  bool watch = false;      // then follow the new job like `ftctl watch`
  std::string request_id;  // empty: a random one
  OutputFormat output = OutputFormat::kTable;
};

int RunRetry(const FtdConnection& ftd, const RetryArgs& args, const Console& console,
             CancelToken* token);

}  // namespace ft::client
