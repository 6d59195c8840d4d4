// The token file and the authenticator (auth/): parsing, constant-time lookup, roles per API,
// the local workers' secret, reloading on change, and errors that never echo a token.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "server/auth/authenticator.h"
#include "server/auth/token_table.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::auth {
namespace {

using ft::testing::TempDir;

constexpr char kAlice[] = "alice-token-0123456789";
constexpr char kRoot[] = "root-token-0123456789ab";
constexpr char kWorker[] = "worker-token-0123456789";

std::string TokenFile() {
  return std::string("# token user role\n\n") + kAlice + " alice user\n" + kRoot +
         "\troot\tadmin\n" + "sha256:" + HexDigest(Sha256(kWorker)) + " gpu-box worker\n";
}

TEST(TokenTableTest, ParsesPlainAndHashedTokens) {
  absl::StatusOr<TokenTable> table = TokenTable::Parse(TokenFile(), "tokens");
  FT_ASSERT_OK(table);
  EXPECT_EQ(table->size(), 3u);
  ASSERT_TRUE(table->Find(kAlice).has_value());
  EXPECT_EQ(table->Find(kAlice)->user, "alice");
  EXPECT_EQ(table->Find(kAlice)->role, Role::kUser);
  EXPECT_EQ(table->Find(kRoot)->role, Role::kAdmin);
  ASSERT_TRUE(table->Find(kWorker).has_value());
  EXPECT_EQ(table->Find(kWorker)->user, "gpu-box");
  EXPECT_EQ(table->Find(kWorker)->role, Role::kWorker);
  EXPECT_FALSE(table->Find("alice-token-012345678").has_value());  // a prefix
  EXPECT_FALSE(table->Find("").has_value());
}

TEST(TokenTableTest, RefusesMalformedLinesNamingTheLineNotTheToken) {
  const std::string secret = "secret-secret-secret-1";
  struct Case {
    std::string line;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {secret + " alice", "3 fields"},
      {secret + " alice user extra", "3 fields"},
      {secret + " alice root", "role must be"},
      {"short alice user", "shorter than 16"},
      {"sha256:abc alice user", "64 hex digits"},
      {"sha256:" + std::string(64, 'g') + " alice user", "64 hex digits"},
      {secret + " " + std::string(200, 'u') + " user", "longer than 128"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TokenTable> table = TokenTable::Parse("# first\n" + c.line + "\n", "tok.txt");
    ASSERT_FALSE(table.ok()) << c.line;
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(table.status().message().find("tok.txt:2: "), std::string::npos) << table.status();
    EXPECT_NE(table.status().message().find(c.expected), std::string::npos) << table.status();
    EXPECT_EQ(table.status().message().find(secret), std::string::npos) << table.status();
  }
  absl::StatusOr<TokenTable> duplicate =
      TokenTable::Parse(secret + " a user\n" + secret + " b admin\n", "tok.txt");
  EXPECT_NE(duplicate.status().message().find("tok.txt:2: duplicate token"), std::string::npos)
      << duplicate.status();
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Write("tokens", TokenFile());
    AuthenticatorOptions options;
    options.token_file = path_;
    options.local_worker_secret = "local-secret-abcdef0123456789";
    auto auth = Authenticator::Create(options);
    FT_ASSERT_OK(auth);
    auth_ = std::move(*auth);
  }
  static std::string Bearer(const std::string& token) { return "Bearer " + token; }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, CodesPerHeaderAndApi) {
  struct Case {
    std::string header;
    Api api;
    absl::StatusCode code;
  };
  const std::vector<Case> cases = {
      {"", Api::kPublic, absl::StatusCode::kUnauthenticated},
      {"", Api::kWorker, absl::StatusCode::kUnauthenticated},
      {kAlice, Api::kPublic, absl::StatusCode::kUnauthenticated},  // no "Bearer "
      {"Basic " + std::string(kAlice), Api::kPublic, absl::StatusCode::kUnauthenticated},
      {"Bearer ", Api::kPublic, absl::StatusCode::kUnauthenticated},
      {Bearer("wrong-token-0123456789"), Api::kPublic, absl::StatusCode::kUnauthenticated},
      {Bearer(kAlice), Api::kPublic, absl::StatusCode::kOk},
      {"bearer " + std::string(kAlice), Api::kPublic, absl::StatusCode::kOk},
      {Bearer(kAlice), Api::kWorker, absl::StatusCode::kPermissionDenied},
      {Bearer(kRoot), Api::kPublic, absl::StatusCode::kOk},
      {Bearer(kRoot), Api::kWorker, absl::StatusCode::kPermissionDenied},
      {Bearer(kWorker), Api::kWorker, absl::StatusCode::kOk},
      {Bearer(kWorker), Api::kPublic, absl::StatusCode::kPermissionDenied},
      {Bearer("local-secret-abcdef0123456789"), Api::kWorker, absl::StatusCode::kOk},
      {Bearer("local-secret-abcdef0123456789"), Api::kPublic, absl::StatusCode::kPermissionDenied},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Principal> who = auth_->Authenticate(c.header, c.api);
    EXPECT_EQ(who.status().code(), c.code) << "'" << c.header << "': " << who.status();
    EXPECT_EQ(who.status().message().find("token-0123456789"), std::string::npos) << who.status();
  }
  EXPECT_EQ(auth_->Authenticate(Bearer(kRoot), Api::kPublic)->user, "root");
}

TEST_F(AuthenticatorTest, ReloadsAChangedFileAndKeepsTheOldTokensOnABrokenOne) {
  FT_EXPECT_OK(auth_->Reload(/*force=*/false));  // unchanged: nothing to do
  {
    std::ofstream out(path_ + ".new");
    out << "carol-token-0123456789 carol user\n";
  }
  std::filesystem::rename(path_ + ".new", path_);  // a new inode, as editors and tools do
  FT_ASSERT_OK(auth_->Reload(/*force=*/false));
  FT_EXPECT_CODE(auth_->Authenticate(Bearer(kAlice), Api::kPublic),
                 absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth_->Authenticate(Bearer("carol-token-0123456789"), Api::kPublic)->user, "carol");

  {
    std::ofstream out(path_ + ".new");
    out << "carol-token-0123456789 carol superuser\n";
  }
  std::filesystem::rename(path_ + ".new", path_);
  FT_EXPECT_CODE(auth_->Reload(/*force=*/false), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(auth_->Authenticate(Bearer("carol-token-0123456789"), Api::kPublic).ok());
  std::filesystem::remove(path_);
  FT_EXPECT_CODE(auth_->Reload(/*force=*/true), absl::StatusCode::kNotFound);
  EXPECT_TRUE(auth_->Authenticate(Bearer("carol-token-0123456789"), Api::kPublic).ok());
}

TEST(AuthenticatorCreateTest, NeedsATokenFileOrTheInsecureFlag) {
  FT_EXPECT_CODE(Authenticator::Create({}), absl::StatusCode::kInvalidArgument);
  AuthenticatorOptions missing;
  missing.token_file = "/nonexistent/tokens";
  FT_EXPECT_CODE(Authenticator::Create(missing), absl::StatusCode::kNotFound);
  AuthenticatorOptions insecure;
  insecure.insecure = true;
  auto auth = Authenticator::Create(insecure);
  FT_ASSERT_OK(auth);
  absl::StatusOr<Principal> who = (*auth)->Authenticate("", Api::kPublic);
  FT_ASSERT_OK(who);
  EXPECT_EQ(who->role, Role::kAdmin);
  EXPECT_EQ(who->user, "");
}

TEST(WorkerSecretTest, IsFreshEachTime) {
  const std::string a = NewWorkerSecret();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, NewWorkerSecret());
}

}  // namespace
}  // namespace ft::auth
