#include "client/lib/config/client_config.h"

#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace ft::client {
namespace {

using ::testing::HasSubstr;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) return std::nullopt;
    return it->second;
  };
}

TEST(ClientConfigTest, DefaultsWithoutAnything) {
  absl::StatusOr<ClientConfig> config = ResolveClientConfig({}, FakeEnv({}));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "127.0.0.1:50051");
  EXPECT_EQ(config->token, "");
  EXPECT_EQ(config->color, "auto");
  EXPECT_EQ(config->server_source, "default");
  EXPECT_EQ(config->config_file, "");
}

TEST(ClientConfigTest, DefaultPathFollowsXdgThenHome) {
  EXPECT_EQ(DefaultConfigPath(FakeEnv({{"HOME", "/h"}})), "/h/.config/ftctl/config.toml");
  EXPECT_EQ(DefaultConfigPath(FakeEnv({{"HOME", "/h"}, {"XDG_CONFIG_HOME", "/x"}})),
            "/x/ftctl/config.toml");
  EXPECT_EQ(DefaultConfigPath(FakeEnv({{"HOME", "/h"}, {"FTCTL_CONFIG", "/c.toml"}})), "/c.toml");
}

TEST(ClientConfigTest, FlagsBeatEnvBeatFile) {
  ft::testing::TempDir dir;
  const std::string xdg = dir.Path("xdg");
  dir.Write("xdg/ftctl/config.toml",
            "# ftctl\nserver = \"file-host:1\"\ntoken = file-token   # comment\ncolor = never\n");
  const EnvLookup env_none = FakeEnv({{"XDG_CONFIG_HOME", xdg}});
  absl::StatusOr<ClientConfig> file_only = ResolveClientConfig({}, env_none);
  ASSERT_TRUE(file_only.ok()) << file_only.status();
  EXPECT_EQ(file_only->server, "file-host:1");
  EXPECT_EQ(file_only->token, "file-token");
  EXPECT_EQ(file_only->color, "never");
  EXPECT_TRUE(file_only->config_file_found);
  EXPECT_EQ(file_only->server_source, "file " + xdg + "/ftctl/config.toml:2");

  const EnvLookup env =
      FakeEnv({{"XDG_CONFIG_HOME", xdg}, {"FTD_SERVER", "env-host:2"}, {"FTD_TOKEN", "env-token"}});
  absl::StatusOr<ClientConfig> from_env = ResolveClientConfig({}, env);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->server, "env-host:2");
  EXPECT_EQ(from_env->token, "env-token");
  EXPECT_EQ(from_env->token_source, "env FTD_TOKEN");

  ConfigFlags flags;
  flags.server = "flag-host:3";
  flags.token = "flag-token";
  flags.color = "always";
  absl::StatusOr<ClientConfig> from_flags = ResolveClientConfig(flags, env);
  ASSERT_TRUE(from_flags.ok());
  EXPECT_EQ(from_flags->server, "flag-host:3");
  EXPECT_EQ(from_flags->token, "flag-token");
  EXPECT_EQ(from_flags->color, "always");
  EXPECT_EQ(from_flags->server_source, "flag --server");
}

TEST(ClientConfigTest, NewEnvNameBeatsLegacyOne) {
  absl::StatusOr<ClientConfig> legacy = ResolveClientConfig({}, FakeEnv({{"FT_SERVER", "old:1"}}));
  ASSERT_TRUE(legacy.ok());
  EXPECT_EQ(legacy->server, "old:1");
  absl::StatusOr<ClientConfig> both =
      ResolveClientConfig({}, FakeEnv({{"FT_SERVER", "old:1"}, {"FTD_SERVER", "new:2"}}));
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->server, "new:2");
}

TEST(ClientConfigTest, BadFileNamesFileAndLine) {
  ClientConfig config;
  absl::Status unknown = ApplyConfigText("server = a:1\n\nsevrer = b:2\n", "/c.toml", &config);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.message(), HasSubstr("/c.toml:3: unknown key 'sevrer'"));

  absl::Status no_equals = ApplyConfigText("server a:1\n", "/c.toml", &config);
  EXPECT_THAT(no_equals.message(), HasSubstr("/c.toml:1: expected `key = value`"));

  absl::Status quote = ApplyConfigText("token = \"abc\n", "/c.toml", &config);
  EXPECT_THAT(quote.message(), HasSubstr("/c.toml:1: unterminated"));

  absl::Status color = ApplyConfigText("color = pink\n", "/c.toml", &config);
  EXPECT_THAT(color.message(), HasSubstr("/c.toml:1: color must be auto, always or never"));
}

TEST(ClientConfigTest, QuotedValuesKeepHashAndEscapes) {
  ClientConfig config;
  ASSERT_TRUE(ApplyConfigText("token = \"a#b\\\"c\"  # note\n", "f", &config).ok());
  EXPECT_EQ(config.token, "a#b\"c");
}

TEST(ClientConfigTest, NamedMissingFileIsAnErrorDefaultIsNot) {
  ConfigFlags flags;
  flags.config_file = "/nonexistent/ftctl.toml";
  absl::StatusOr<ClientConfig> named = ResolveClientConfig(flags, FakeEnv({}));
  EXPECT_EQ(named.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(named.status().message(), HasSubstr("/nonexistent/ftctl.toml"));

  absl::StatusOr<ClientConfig> by_default =
      ResolveClientConfig({}, FakeEnv({{"HOME", "/nonexistent"}}));
  ASSERT_TRUE(by_default.ok());
  EXPECT_FALSE(by_default->config_file_found);
}

TEST(ClientConfigTest, ShowMasksTheToken) {
  ClientConfig config;
  config.token = "supersecret";
  config.token_source = "env FTD_TOKEN";
  const std::string shown = FormatClientConfig(config, false);
  EXPECT_THAT(shown, HasSubstr("token = \"su****\"  # env FTD_TOKEN"));
  EXPECT_THAT(shown, ::testing::Not(HasSubstr("supersecret")));
  EXPECT_THAT(FormatClientConfig(config, true), HasSubstr("supersecret"));
}

}  // namespace
}  // namespace ft::client
