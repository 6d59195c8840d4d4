// The pure rules of webhooks: the signature (a published HMAC-SHA256 vector and Stripe's signed
// string), the address policy, the URL checks and the retry schedule.
#include <gtest/gtest.h>

#include <string>

#include "server/notify/address_policy.h"
#include "server/notify/retry_schedule.h"
#include "server/notify/webhook_signer.h"
#include "server/notify/webhook_url.h"
#include "tests/support/temp_dir.h"

namespace ft::notify {
namespace {

TEST(WebhookSignerTest, MatchesRfc4231TestCase2) {
  // RFC 4231 section 4.3: key "Jefe", data "what do ya want for nothing?".
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookSignerTest, SignsTimestampDotBody) {
  // Computed independently: python3 -c 'import hmac,hashlib; print(hmac.new(
  //   b"whsec_0123456789abcdef", b"1700000000.{\"id\":\"x\"}", hashlib.sha256).hexdigest())'
  EXPECT_EQ(SignatureValue("whsec_0123456789abcdef", 1700000000, R"({"id":"x"})"),
            "t=1700000000,v1=770060346ddf9638ee9bbc8d6403946c9480679bbe3216ada9c05ceb9db9010e");
}

TEST(WebhookSignerTest, SecretFileNeedsALongFirstLine) {
  ft::testing::TempDir dir;
  EXPECT_EQ(ReadWebhookSecret(dir.Write("short", "abc\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadWebhookSecret(dir.Path("missing")).status().code(), absl::StatusCode::kNotFound);
  absl::StatusOr<std::string> secret =
      ReadWebhookSecret(dir.Write("good", "  0123456789abcdef0123  \nignored\n"));
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ(*secret, "0123456789abcdef0123");
}

TEST(AddressPolicyTest, InternalAddresses) {
  for (const char* internal : {"127.0.0.1",
                               "127.255.0.9",
                               "10.0.0.1",
                               "172.16.0.1",
                               "172.31.255.255",
                               "192.168.1.1",
                               "169.254.169.254",
                               "100.64.0.1",
                               "0.0.0.0",
                               "224.0.0.1",
                               "255.255.255.255",
                               "::1",
                               "::",
                               "fe80::1",
                               "fd00::1",
                               "fc00::5",
                               "ff02::1",
                               "::ffff:127.0.0.1",
                               "::ffff:10.1.2.3",
                               "::ffff:169.254.169.254"}) {
    EXPECT_TRUE(IsInternalAddressText(internal)) << internal;
  }
  for (const char* external :
       {"8.8.8.8", "1.1.1.1", "172.32.0.1", "172.15.255.255", "100.128.0.1", "169.253.1.1",
        "193.168.0.1", "2001:4860::8888", "::ffff:8.8.8.8", "2606:4700::1111"}) {
    EXPECT_FALSE(IsInternalAddressText(external)) << external;
  }
}

TEST(WebhookUrlTest, OnlyHttpAndHttpsWithAHost) {
  EXPECT_TRUE(ParseWebhookUrl("https://hooks.example.com/ftd?x=1", "f").ok());
  EXPECT_TRUE(ParseWebhookUrl("http://example.com:8080/", "f").ok());
  for (const char* bad : {"ftp://example.com/", "file:///etc/passwd", "example.com/hook",
                          "gopher://x/", "http://", "not a url", ""}) {
    absl::StatusOr<WebhookUrl> url = ParseWebhookUrl(bad, "spec.notify[2]");
    EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(url.status().message().find("spec.notify[2]"), std::string::npos) << bad;
  }
  EXPECT_FALSE(ParseWebhookUrl("https://example.com/" + std::string(kMaxUrlBytes, 'a'), "f").ok());
}

TEST(WebhookUrlTest, JobUrlsMayNotNameInternalHostsUnlessAllowed) {
  google::protobuf::RepeatedPtrField<std::string> urls;
  urls.Add("https://hooks.example.com/a");
  EXPECT_TRUE(CheckJobWebhookUrls(urls, AddressPolicy{}).ok());
  for (const char* internal :
       {"http://127.0.0.1:9000/", "http://localhost/", "http://[::1]/",
        "http://169.254.169.254/latest/meta-data", "http://10.0.0.7/", "http://api.localhost/"}) {
    urls.Add(internal);
    absl::Status status = CheckJobWebhookUrls(urls, AddressPolicy{});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << internal;
    EXPECT_NE(status.message().find("spec.notify[1]"), std::string::npos) << status;
    EXPECT_NE(status.message().find("--webhook-allow-private"), std::string::npos) << status;
    EXPECT_TRUE(CheckJobWebhookUrls(urls, AddressPolicy{true}).ok()) << internal;
    urls.RemoveLast();
  }
  for (int i = 0; i < kMaxJobUrls; ++i) urls.Add("https://example.com/x");
  EXPECT_EQ(CheckJobWebhookUrls(urls, AddressPolicy{}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(RetryScheduleTest, DoublesUpToTheCapWithJitterInTheUpperHalf) {
  RetrySchedule schedule;
  schedule.base = absl::Seconds(5);
  schedule.max_delay = absl::Seconds(60);
  EXPECT_EQ(RetryDelay(schedule, 1, 1.0), absl::Seconds(5));
  EXPECT_EQ(RetryDelay(schedule, 1, 0.0), absl::Seconds(2.5));
  EXPECT_EQ(RetryDelay(schedule, 2, 1.0), absl::Seconds(10));
  EXPECT_EQ(RetryDelay(schedule, 3, 1.0), absl::Seconds(20));
  EXPECT_EQ(RetryDelay(schedule, 4, 1.0), absl::Seconds(40));
  EXPECT_EQ(RetryDelay(schedule, 5, 1.0), absl::Seconds(60));
  EXPECT_EQ(RetryDelay(schedule, 1000, 1.0), absl::Seconds(60));
  EXPECT_EQ(RetryDelay(schedule, 1000, 0.5), absl::Seconds(45));
}

TEST(RetryScheduleTest, GivesUpWhenTheNextTryIsPastTheDeadline) {
  RetrySchedule schedule;
  schedule.base = absl::Seconds(10);
  schedule.give_up_after = absl::Seconds(100);
  const absl::Time created = absl::FromUnixSeconds(1000);
  EXPECT_EQ(NextAttempt(schedule, created, created, 1, 1.0), created + absl::Seconds(10));
  EXPECT_EQ(NextAttempt(schedule, created, created + absl::Seconds(60), 3, 1.0),
            created + absl::Seconds(100));  // exactly at the deadline: still tried
  EXPECT_EQ(NextAttempt(schedule, created, created + absl::Seconds(61), 3, 1.0), std::nullopt);
}

}  // namespace
}  // namespace ft::notify
