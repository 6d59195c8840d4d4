// `ftworker --spec job.json --out DIR`: train one job without a daemon, printing progress and
// writing its events to DIR/events.jsonl (common/events/event_log_appender.h).
#pragma once

#include <string>

namespace ft::worker {

// Returns the process exit code: 0 succeeded, 1 failed, 2 bad spec, 4 cancelled.
// token_cache_dir "": no token cache; memory_budget_mb 0: auto_micro_batch's default budget.
int RunStandalone(const std::string& spec_path, const std::string& out_dir, int threads,
                  const std::string& token_cache_dir = "", double memory_budget_mb = 0);

}  // namespace ft::worker
