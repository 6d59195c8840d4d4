// Load test: the knobs of one run of ft_load, and their command-line form.
#pragma once

#include <string>
#include <vector>

namespace ft::load {

struct LoadOptions {
  int submissions = 1000;  // SubmitJob calls in all
  int clients = 50;        // concurrent submitters, each its own channel, user and token
  int watchers = 200;      // concurrent WatchJob clients, each its own channel
  // Total SubmitJob calls per second over all clients (open loop: each call has its scheduled
  // time, and its latency counts from then). 0: every client submits as fast as it is answered.
  double submit_rate = 0;
  // After the last submission the jobs keep running this long; then every job still queued or
  // running is cancelled, so that every stream ends.
  double run_seconds = 10;
  // How long ftd is left idle after the run before its memory is read again.
  double settle_seconds = 5;
  // Rounds of the whole load against the same ftd: memory read after each shows whether it
  // returns to where it was (flat) or keeps growing.
  int rounds = 1;
  int local_workers = 1;    // ftd's --local-workers
  std::vector<std::string> ftd_flags;  // more ftd flags (--ftd-flag=--metrics-grace-seconds=5)
  int max_steps = 2;        // per job (scratch:bloom-tiny on a toy CSV)
  int train_rows = 32;      // rows of the toy CSV
  double deadline_seconds = 240;  // no stream or call outlives this (from the start)
  // Turns the bars (SubmitJob p99 <= 20 ms, event lag p99 <= 250 ms) into failures.
  bool check = false;
  double submit_p99_bar_ms = 20;
  double lag_p99_bar_ms = 250;
};

// Parses `--name=value` / `--name value` flags of LoadOptions (names with dashes: --submit-rate)
// and `--check`; arguments it does not know (e.g. --gtest_*) are returned in `rest`. "" on
// success, else the error naming the flag.
std::string ParseLoadOptions(int argc, char** argv, LoadOptions* options,
                             std::vector<std::string>* rest);

}  // namespace ft::load
