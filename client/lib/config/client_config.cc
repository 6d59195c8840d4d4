#include "client/lib/config/client_config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ft::client {
namespace {

bool IsColorMode(absl::string_view value) {
  return value == "auto" || value == "always" || value == "never";
}

// A value as written: bare (up to a `#` comment) or a double-quoted string with \" and \\.
absl::StatusOr<std::string> ParseValue(absl::string_view raw, const std::string& where) {
  raw = absl::StripAsciiWhitespace(raw);
  if (raw.empty() || raw.front() != '"') {
    const size_t hash = raw.find('#');
    if (hash != absl::string_view::npos) raw = absl::StripAsciiWhitespace(raw.substr(0, hash));
    return std::string(raw);
  }
  std::string value;
  size_t i = 1;
  for (; i < raw.size() && raw[i] != '"'; ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    value.push_back(raw[i]);
  }
  if (i >= raw.size()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": unterminated \" in the value"));
  }
  absl::string_view rest = absl::StripAsciiWhitespace(raw.substr(i + 1));
  if (!rest.empty() && rest.front() != '#') {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": unexpected text after the quoted value: ", rest));
  }
  return value;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

std::string DefaultConfigPath(const EnvLookup& env) {
  if (auto named = env(kEnvConfig)) return *named;
  if (auto xdg = env("XDG_CONFIG_HOME")) return absl::StrCat(*xdg, "/ftctl/config.toml");
  if (auto home = env("HOME")) return absl::StrCat(*home, "/.config/ftctl/config.toml");
  return "";
}

absl::Status ApplyConfigText(absl::string_view text, const std::string& path,
                             ClientConfig* config) {
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_number;
    const std::string where = absl::StrCat(path, ":", line_number);
    absl::string_view stripped = absl::StripAsciiWhitespace(line);
    if (stripped.empty() || stripped.front() == '#') continue;
    const size_t equals = stripped.find('=');
    if (equals == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": expected `key = value`, got: ", stripped));
    }
    const std::string key(absl::StripAsciiWhitespace(stripped.substr(0, equals)));
    absl::StatusOr<std::string> value = ParseValue(stripped.substr(equals + 1), where);
    if (!value.ok()) return value.status();
    const std::string source = absl::StrCat("file ", where);
    if (key == "server") {
      if (value->empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": empty server"));
      config->server = *value;
      config->server_source = source;
    } else if (key == "token") {
      config->token = *value;
      config->token_source = source;
    } else if (key == "color") {
      if (!IsColorMode(*value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": color must be auto, always or never, got '", *value, "'"));
      }
      config->color = *value;
      config->color_source = source;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown key '", key, "' (known: server, token, color)"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ClientConfig> ResolveClientConfig(const ConfigFlags& flags, const EnvLookup& env) {
  ClientConfig config;
  // The file first, then env and flags over it.
  bool named = flags.config_file.has_value() || env(kEnvConfig).has_value();
  config.config_file = flags.config_file ? *flags.config_file : DefaultConfigPath(env);
  if (!config.config_file.empty()) {
    std::error_code error;
    const bool exists = std::filesystem::is_regular_file(config.config_file, error);
    if (exists) {
      std::ifstream in(config.config_file);
      if (!in) {
        return absl::PermissionDeniedError(
            absl::StrCat("cannot read the config file ", config.config_file));
      }
      std::ostringstream text;
      text << in.rdbuf();
      absl::Status applied = ApplyConfigText(text.str(), config.config_file, &config);
      if (!applied.ok()) return applied;
      config.config_file_found = true;
    } else if (named) {
      return absl::NotFoundError(absl::StrCat("config file ", config.config_file,
                                              " does not exist (named by ",
                                              flags.config_file ? "--config" : kEnvConfig, ")"));
    }
  }

  if (auto server = env(kEnvServerLegacy)) {
    config.server = *server;
    config.server_source = absl::StrCat("env ", kEnvServerLegacy);
  }
  if (auto server = env(kEnvServer)) {
    config.server = *server;
    config.server_source = absl::StrCat("env ", kEnvServer);
  }
  if (auto token = env(kEnvToken)) {
    config.token = *token;
    config.token_source = absl::StrCat("env ", kEnvToken);
  }

  if (flags.server) {
    if (flags.server->empty()) return absl::InvalidArgumentError("--server is empty");
    config.server = *flags.server;
    config.server_source = "flag --server";
  }
  if (flags.token) {
    config.token = *flags.token;
    config.token_source = "flag --token";
  }
  if (flags.color) {
    if (!IsColorMode(*flags.color)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--color must be auto, always or never, got '", *flags.color, "'"));
    }
    config.color = *flags.color;
    config.color_source = "flag --color";
  }
  return config;
}

std::string FormatClientConfig(const ClientConfig& config, bool reveal_token) {
  std::string token = config.token;
  if (!reveal_token && !token.empty()) {
    token = token.size() <= 4 ? "****" : absl::StrCat(token.substr(0, 2), "****");
  }
  return absl::StrCat(
      "server = \"", config.server, "\"  # ", config.server_source, "\n", "token = \"", token,
      "\"  # ", config.token.empty() ? "not set" : config.token_source, "\n", "color = \"",
      config.color, "\"  # ", config.color_source, "\n", "# config file: ",
      config.config_file.empty() ? "(none: neither XDG_CONFIG_HOME nor HOME)" : config.config_file,
      config.config_file.empty() ? "" : (config.config_file_found ? "" : " (not present)"), "\n");
}

}  // namespace ft::client
