// Where ftctl finds ftd and the credentials it sends: flags > environment > config file > default.
//
// The config file is a small TOML subset, one `key = value` a line; `#` starts a comment; values
// may be bare or in double quotes:
//   # ~/.config/ftctl/config.toml
//   server = "ftd.internal:50051"
//   token = "s3cret"
//   color = "auto"          # auto | always | never
// It is read from --config FILE, else $FTCTL_CONFIG, else $XDG_CONFIG_HOME/ftctl/config.toml,
// else ~/.config/ftctl/config.toml; a missing default file is no error, a missing named one is.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ft::client {

inline constexpr const char* kDefaultServer = "127.0.0.1:50051";

// What ftctl's calls use. `token` empty: no credentials are sent.
struct ClientConfig {
  std::string server = kDefaultServer;  // HOST:PORT
  std::string token;                    // bearer token
  std::string color = "auto";           // auto | always | never

  // Where each value came from, for `ftctl config show`: "flag --server", "env FTD_SERVER",
  // "file /home/me/.config/ftctl/config.toml:3", "default".
  std::string server_source = "default";
  std::string token_source = "default";
  std::string color_source = "default";
  std::string config_file;  // the file read, or the default path looked at (may not exist)
  bool config_file_found = false;
};

// The command line's share: only what was given.
struct ConfigFlags {
  std::optional<std::string> server;       // --server
  std::optional<std::string> token;        // --token
  std::optional<std::string> color;        // --color
  std::optional<std::string> config_file;  // --config
};

// Reads an environment variable; nullopt when unset or empty. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
EnvLookup ProcessEnv();

// The environment variables honoured.
inline constexpr const char* kEnvServer = "FTD_SERVER";
inline constexpr const char* kEnvServerLegacy = "FT_SERVER";  // older name, still read
inline constexpr const char* kEnvToken = "FTD_TOKEN";
inline constexpr const char* kEnvConfig = "FTCTL_CONFIG";

// The config file looked at when --config is not given (FTCTL_CONFIG, XDG, HOME); empty when
// neither XDG_CONFIG_HOME nor HOME is set.
std::string DefaultConfigPath(const EnvLookup& env);

// Merges flags > env > file > defaults. INVALID_ARGUMENT naming file and line for a malformed
// file, an unknown key or a bad colour mode; NOT_FOUND for a named (--config / FTCTL_CONFIG)
// file that does not exist.
absl::StatusOr<ClientConfig> ResolveClientConfig(const ConfigFlags& flags, const EnvLookup& env);

// Parses the file's text into `config` (only the keys present), sources "file PATH:LINE".
absl::Status ApplyConfigText(absl::string_view text, const std::string& path, ClientConfig* config);

// `ftctl config show`: one "key = value  # source" line per key; the token is masked unless
// `reveal`.
std::string FormatClientConfig(const ClientConfig& config, bool reveal_token);

}  // namespace ft::client
