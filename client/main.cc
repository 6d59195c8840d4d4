// ftctl: the command-line client of ftd (submit, list, get, cancel and watch finetuning jobs).
// The verbs are a table (client/lib/cmd/verb_table.h); this file holds the global flags and
// prepares what the parsed verb needs.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/cmd/verb.h"
#include "client/lib/cmd/verb_table.h"
#include "client/lib/config/client_config.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"
#include "client/lib/rpc/rpc_errors.h"

namespace {

int TerminalWidth() {
  winsize size{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

bool StdoutIsLiveTerminal() {
  const char* term = std::getenv("TERM");
  return isatty(STDOUT_FILENO) == 1 && (term == nullptr || std::strcmp(term, "dumb") != 0);
}

}  // namespace

int main(int argc, char** argv) {
  ft::client::ConfigFlags config_flags;
  double timeout_seconds = 10;

  CLI::App app{"ftctl: submit, list, inspect, cancel and follow finetuning jobs on ftd."};
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(absl::StrCat(
      "\nExamples:\n"
      "  ftctl submit --model scratch:bloom-tiny --train sms_spam.csv --micro-batch-size 16 "
      "--epochs 3 --watch\n"
      "  ftctl list --state running\n"
      "  ftctl logs job-3 --follow\n"
      "  ftctl wait job-3 --timeout 600 && ftctl get job-3 -o yaml\n"
      "  source <(ftctl completion bash)\n\n"
      "Settings: --server/--token > $FTD_SERVER/$FTD_TOKEN > the config file "
      "(`ftctl config show` says which).\n"
      "Colours and progress bars only on a terminal; NO_COLOR or --color never turns colours "
      "off.\n\n",
      ft::client::kExitCodeHelp));
  app.add_option("--server", config_flags.server,
                 "ftd address (default: $FTD_SERVER, else `server` in the config file, else "
                 "127.0.0.1:50051)")
      ->type_name("HOST:PORT");
  app.add_option("--token", config_flags.token,
                 "bearer token sent to ftd (default: $FTD_TOKEN, else `token` in the config file)")
      ->type_name("TOKEN");
  app.add_option("--config", config_flags.config_file,
                 "config file (default: $FTCTL_CONFIG, else $XDG_CONFIG_HOME/ftctl/config.toml, "
                 "else ~/.config/ftctl/config.toml)")
      ->type_name("FILE");
  // TLS (the token comes from the client config above).
  ft::net::ChannelSecurity security;
  if (const char* ca = std::getenv("FT_TLS_CA"); ca != nullptr) security.tls_ca_file = ca;
  app.add_option("--tls-ca", security.tls_ca_file,
                 "speak TLS, trusting this PEM CA certificate (default: $FT_TLS_CA)")
      ->type_name("CA.pem");
  app.add_option("--timeout", timeout_seconds,
                 "deadline of each call to ftd (following a job has none)")
      ->type_name("SECONDS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--color", config_flags.color,
                 "colours: auto (on a terminal, unless NO_COLOR is set), always, never "
                 "(default: `color` in the config file, else auto)")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");

  const std::vector<ft::client::Verb> verbs = ft::client::FtctlVerbs();
  const std::vector<CLI::App*> subcommands = ft::client::AddVerbs(app, verbs);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : ft::client::kExitBadRequest;
  }
  // require_subcommand(1): a parse that got here named exactly one verb.
  const ft::client::Verb& verb = *ft::client::ParsedVerb(verbs, subcommands);
  if (verb.check) {
    if (absl::Status usage = verb.check(); !usage.ok()) {
      std::cerr << "ftctl: " << usage.message() << std::endl;
      return ft::client::kExitBadRequest;
    }
  }
  ft::client::VerbContext context;
  context.app = &app;
  context.verbs = &verbs;
  if (verb.needs == ft::client::VerbNeeds::kNothing) return verb.run(context);

  absl::StatusOr<ft::client::ClientConfig> config =
      ft::client::ResolveClientConfig(config_flags, ft::client::ProcessEnv());
  if (!config.ok()) {
    std::cerr << ft::client::ErrorLine(config.status()) << std::endl;
    return ft::client::kExitBadRequest;
  }
  context.config = &*config;
  if (verb.needs == ft::client::VerbNeeds::kSettings) return verb.run(context);
  const std::string& server = config->server;

  ft::client::Console console;
  console.live = StdoutIsLiveTerminal();
  console.terminal_width = TerminalWidth;
  console.glyphs = ft::client::ChooseSparkGlyphs(console.live, std::getenv("LC_ALL"),
                                                 std::getenv("LC_CTYPE"), std::getenv("LANG"));
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  console.palette = ft::client::Palette(ft::client::ShouldColor(
      config->color, isatty(STDOUT_FILENO) == 1, no_color != nullptr && *no_color != '\0',
      term == nullptr ? "" : term));

  // Before gRPC starts its threads, so that they inherit the blocked signals.
  ft::client::CancelToken token;
  if (verb.follows && verb.follows()) ft::client::CancelOnSignals(&token, console.live);

  absl::StatusOr<std::shared_ptr<grpc::Channel>> made =
      ft::client::MakeFtdChannel(server, security);
  if (!made.ok()) {
    std::cerr << "ftctl: " << made.status().message() << "\n";
    return ft::client::kExitBadRequest;
  }
  std::shared_ptr<grpc::Channel> channel = *made;
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub = ft::v1::FinetuneService::NewStub(channel);
  ft::client::FtdConnection ftd;
  ftd.stub = stub.get();
  ftd.channel = channel.get();
  ftd.server = server;
  ftd.token = config->token;
  ftd.timeout = absl::Seconds(timeout_seconds);

  context.ftd = &ftd;
  context.channel = channel;
  context.console = &console;
  context.token = &token;
  return verb.run(context);
}
