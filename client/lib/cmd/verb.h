// One ftctl verb as an entry of the verb table (verb_table.h): its name, help, flags and run
// function together, so that adding a verb is adding an entry, and a verb runs only its own code.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/config/client_config.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"
#include "grpcpp/channel.h"

namespace ft::client {

// What a verb needs before it runs; ftctl prepares no more than that.
enum class VerbNeeds {
  kNothing,   // runs before the settings are read, so a broken config file cannot stop it
  kSettings,  // the resolved settings (server, token, color), no connection
  kFtd,       // a connection to ftd, the console and the cancel token
};

// What main() prepared for the verb, according to its VerbNeeds; the rest is null.
struct Verb;
struct VerbContext {
  CLI::App* app = nullptr;                   // the whole command line's parser (always set)
  const std::vector<Verb>* verbs = nullptr;  // the table it was built from (always set)
  const ClientConfig* config = nullptr;
  const FtdConnection* ftd = nullptr;
  std::shared_ptr<grpc::Channel> channel;
  const Console* console = nullptr;
  CancelToken* token = nullptr;
};

struct Verb {
  std::string name;
  // `ftctl --help`'s line; its first sentence is the completion scripts' description.
  std::string help;
  std::string footer;  // examples and exit codes, after the flags in `ftctl VERB --help`
  VerbNeeds needs = VerbNeeds::kFtd;
  bool takes_job_ids = false;      // completion offers job ids for its positional words
  std::vector<std::string> words;  // fixed positional words completion offers ("bash", "zsh")
  // Declares the verb's flags and positional words on its own subcommand, bound to state the
  // other functions of the entry share.
  std::function<void(CLI::App&)> add_flags;
  // A usage error visible only once all flags are parsed (exit code 2); empty: none.
  std::function<absl::Status()> check;
  // Whether this run follows a job, so that Ctrl-C ends the follow and not ftctl; empty: never.
  std::function<bool()> follows;
  // Runs the parsed verb and returns the process exit code (rpc_errors.h).
  std::function<int(const VerbContext&)> run;
};

}  // namespace ft::client
