// The console's parts without a browser or an HTTP server: its URL space, query strings, the
// gRPC-to-HTTP status mapping, the embedded page, and the event streams against a real ftd
// (FtdServer in-process, no workers: a submitted job stays QUEUED).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "server/console/assets.h"
#include "server/console/download_links.h"
#include "server/console/event_stream.h"
#include "server/console/http_request.h"
#include "server/console/http_status.h"
#include "server/console/routes.h"
#include "server/ftd_server.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::console {
namespace {

TEST(ConsoleRoutesTest, NamesEachEndpointAndItsJob) {
  EXPECT_EQ(MatchRoute("GET", "/api/v1/jobs").endpoint, Endpoint::kListJobs);
  EXPECT_EQ(MatchRoute("POST", "/api/v1/jobs").endpoint, Endpoint::kSubmitJob);
  const Route get = MatchRoute("GET", "/api/v1/jobs/job-12ab");
  EXPECT_EQ(get.endpoint, Endpoint::kGetJob);
  EXPECT_EQ(get.job_id, "job-12ab");
  EXPECT_EQ(MatchRoute("DELETE", "/api/v1/jobs/job-1").endpoint, Endpoint::kDeleteJob);
  const Route cancel = MatchRoute("POST", "/api/v1/jobs/job-1:cancel");
  EXPECT_EQ(cancel.endpoint, Endpoint::kCancelJob);
  EXPECT_EQ(cancel.job_id, "job-1");
  const Route events = MatchRoute("GET", "/api/v1/jobs/job-1/events");
  EXPECT_EQ(events.endpoint, Endpoint::kWatchJob);
  EXPECT_EQ(events.job_id, "job-1");
  EXPECT_EQ(MatchRoute("GET", "/api/v1/jobs/job-1/artifacts").endpoint, Endpoint::kListArtifacts);
  const Route file = MatchRoute("GET", "/api/v1/jobs/job-1/artifacts/checkpoints/step-2/state.pt");
  EXPECT_EQ(file.endpoint, Endpoint::kDownloadArtifact);
  EXPECT_EQ(file.job_id, "job-1");
  EXPECT_EQ(file.name, "checkpoints/step-2/state.pt");
  EXPECT_EQ(MatchRoute("POST", "/api/v1/jobs/job-1/download_links").endpoint,
            Endpoint::kCreateDownloadLink);
  const std::string ticket(64, 'a');
  const Route link = MatchRoute("GET", "/api/v1/downloads/" + ticket);
  EXPECT_EQ(link.endpoint, Endpoint::kDownloadByLink);
  EXPECT_EQ(link.name, ticket);
}

TEST(ConsoleRoutesTest, RefusesOtherMethodsAndPaths) {
  EXPECT_EQ(MatchRoute("PUT", "/api/v1/jobs").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("GET", "/api/v1/jobs/job-1:cancel").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("POST", "/api/v1/jobs/job-1").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("POST", "/index.html").endpoint, Endpoint::kMethodNotAllowed);
  EXPECT_EQ(MatchRoute("DELETE", "/api/v1/jobs/job-1/artifacts/model.safetensors").endpoint,
            Endpoint::kMethodNotAllowed);
  for (const char* path :
       {"/api/v1/jobs/", "/api/v1/jobs/../x", "/api/v1/jobs/a/b", "/api/v2/jobs", "/api/v1/jobsX",
        "/api/v1/jobs/:cancel", "/api/v1/jobs/job-1/artifacts/", "/api/v1/jobs/job-1/artifacts/..",
        "/api/v1/jobs/job-1/artifacts/a/../../x", "/api/v1/jobs/job-1/artifacts//etc/passwd",
        "/api/v1/jobs/job-1/artifacts/a\\b", "/api/v1/downloads/abc",
        "/api/v1/downloads/../../x"}) {
    EXPECT_EQ(MatchRoute("GET", path).endpoint, Endpoint::kNotFound) << path;
  }
  EXPECT_EQ(MatchRoute("GET", "/").name, "/index.html");
  EXPECT_EQ(MatchRoute("GET", "/console.js").endpoint, Endpoint::kAsset);
}

TEST(ConsoleQueryTest, DecodesRepeatedKeysAndEscapes) {
  absl::StatusOr<std::multimap<std::string, std::string>> query =
      ParseQuery("state=QUEUED&state=RUNNING&page_token=a%2Bb%3D&x=1+2&flag");
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->count("state"), 2u);
  EXPECT_EQ(query->find("page_token")->second, "a+b=");
  EXPECT_EQ(query->find("x")->second, "1 2");
  EXPECT_EQ(query->find("flag")->second, "");
  EXPECT_FALSE(ParseQuery("a=%zz").ok());
  EXPECT_FALSE(ParseQuery("a=%4").ok());
}

TEST(ConsoleStatusTest, MapsGrpcCodesAsGoogleApisDo) {
  EXPECT_EQ(HttpStatusFromGrpc(grpc::OK), 200);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::UNAUTHENTICATED), 401);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::PERMISSION_DENIED), 403);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::NOT_FOUND), 404);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::INVALID_ARGUMENT), 400);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::FAILED_PRECONDITION), 400);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::ALREADY_EXISTS), 409);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::UNAVAILABLE), 503);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::DEADLINE_EXCEEDED), 504);
  EXPECT_EQ(HttpStatusFromGrpc(grpc::INTERNAL), 500);
  const nlohmann::json error =
      nlohmann::json::parse(ErrorJson(grpc::NOT_FOUND, "no job with id 'job-x'"));
  EXPECT_EQ(error["error"]["code"], 404);
  EXPECT_EQ(error["error"]["status"], "NOT_FOUND");
  EXPECT_EQ(error["error"]["message"], "no job with id 'job-x'");
  EXPECT_EQ(nlohmann::json::parse(ErrorJson(grpc::UNIMPLEMENTED, "m", 405))["error"]["code"], 405);
}

TEST(ConsoleAssetsTest, ThePageAndItsFilesAreEmbedded) {
  const Asset* index = FindAsset("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_TRUE(absl::StartsWith(std::string(index->content_type), "text/html"));
  EXPECT_TRUE(absl::StrContains(std::string(index->body), "/console.js"));
  ASSERT_NE(FindAsset("/console.js"), nullptr);
  EXPECT_TRUE(absl::StrContains(std::string(FindAsset("/console.js")->body), "/api/v1/jobs"));
  ASSERT_NE(FindAsset("/console.css"), nullptr);
  EXPECT_EQ(FindAsset("/ftd.db"), nullptr);
  // Nothing the page loads comes from elsewhere.
  for (const char* path : {"/index.html", "/console.js", "/console.css"}) {
    EXPECT_FALSE(absl::StrContains(std::string(FindAsset(path)->body), "https://")) << path;
    EXPECT_FALSE(absl::StrContains(std::string(FindAsset(path)->body), "//cdn")) << path;
  }
}

TEST(DownloadLinksTest, ATicketServesOnceWithinItsTime) {
  absl::Time now = absl::FromUnixSeconds(1000);
  DownloadLinkOptions options;
  options.ttl = absl::Seconds(60);
  options.max_open = 2;
  options.now = [&now] { return now; };
  DownloadLinks links(options);
  const std::string id = links.Issue({"Bearer t", "job-1", "model.safetensors"});
  EXPECT_EQ(id.size(), 64u);
  EXPECT_NE(links.Issue({"Bearer t", "job-1", "config.json"}), id);
  std::optional<DownloadTicket> ticket = links.Redeem(id);
  ASSERT_TRUE(ticket.has_value());
  EXPECT_EQ(ticket->authorization, "Bearer t");
  EXPECT_EQ(ticket->job_id, "job-1");
  EXPECT_EQ(ticket->name, "model.safetensors");
  EXPECT_FALSE(links.Redeem(id).has_value()) << "a ticket serves once";
  EXPECT_FALSE(links.Redeem(std::string(64, '0')).has_value());

  const std::string late = links.Issue({"Bearer t", "job-1", "a"});
  now += absl::Seconds(61);
  EXPECT_FALSE(links.Redeem(late).has_value()) << "expired";

  // Beyond max_open the oldest goes.
  const std::string first = links.Issue({"", "job-1", "1"});
  now += absl::Seconds(1);
  const std::string second = links.Issue({"", "job-1", "2"});
  now += absl::Seconds(1);
  const std::string third = links.Issue({"", "job-1", "3"});
  EXPECT_FALSE(links.Redeem(first).has_value());
  EXPECT_TRUE(links.Redeem(second).has_value());
  EXPECT_TRUE(links.Redeem(third).has_value());
}

// Records what a stream writes; Write fails once `fail_after` writes have gone through.
class RecordingSink final : public ResponseStream {
 public:
  explicit RecordingSink(int fail_after = -1) : fail_after_(fail_after) {}
  bool Start(const StreamHead& head) override {
    absl::MutexLock lock(&mu_);
    started_ = true;
    return true;
  }
  bool Write(absl::string_view bytes) override {
    absl::MutexLock lock(&mu_);
    if (fail_after_ >= 0 && writes_ >= fail_after_) return false;
    ++writes_;
    text_.append(bytes.data(), bytes.size());
    return true;
  }
  std::string text() const {
    absl::MutexLock lock(&mu_);
    return text_;
  }

 private:
  mutable absl::Mutex mu_;
  const int fail_after_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  std::string text_ ABSL_GUARDED_BY(mu_);
};

class ConsoleStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FtdOptions options;
    options.listen = "127.0.0.1:0";
    options.metrics_listen = "127.0.0.1:0";
    options.home = dir_.Path("home");
    options.local_workers = 0;
    options.insecure_no_auth = true;
    options.data_roots = {dir_.Path("")};
    absl::StatusOr<std::unique_ptr<FtdServer>> ftd = FtdServer::Create(options);
    ASSERT_TRUE(ftd.ok()) << ftd.status();
    ftd_ = std::move(*ftd);
    stub_ = ft::v1::FinetuneService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(ftd_->port()), grpc::InsecureChannelCredentials()));
    ft::v1::SubmitJobRequest submit;
    *submit.mutable_spec() =
        ft::testing::ValidSpec(dir_.Write("train.csv", ft::testing::SmallCsv()));
    ft::v1::SubmitJobResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->SubmitJob(&context, submit, &response).ok());
    job_id_ = response.job().id();
  }
  void TearDown() override {
    if (ftd_) ftd_->Shutdown();
  }

  ft::testing::TempDir dir_;
  std::unique_ptr<FtdServer> ftd_;
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub_;
  std::string job_id_;
};

TEST_F(ConsoleStreamTest, SendsEventsThenKeepalivesAndStopsWhenTheClientGoes) {
  // A keepalive interval long enough for the stored first event to arrive before the first
  // keepalive even under TSan's slowdown.
  EventStreams streams(stub_.get(), {/*max_streams=*/1, absl::Milliseconds(250)});
  RecordingSink sink(/*fail_after=*/3);
  HttpRequest request;
  EXPECT_FALSE(streams.Serve(job_id_, request, &sink).has_value());
  // The QUEUED job's first event, then keepalives until the third write; the fourth failed.
  const std::string text = sink.text();
  EXPECT_TRUE(absl::StartsWith(text, "id: 1\ndata: {")) << text;
  EXPECT_TRUE(absl::StrContains(text, "\"state_change\"")) << text;
  EXPECT_TRUE(absl::StrContains(text, ": keepalive\n\n")) << text;
  EXPECT_EQ(streams.open_streams(), 0);
}

TEST_F(ConsoleStreamTest, RefusesBadInputAndStreamsOverTheBound) {
  EventStreams streams(stub_.get(), {/*max_streams=*/1, absl::Milliseconds(20)});
  RecordingSink sink;
  HttpRequest request;
  request.query = "after_seq=x";
  std::optional<HttpReply> bad = streams.Serve(job_id_, request, &sink);
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->status, 400);
  EXPECT_TRUE(absl::StrContains(bad->body, "after_seq")) << bad->body;
  request.query = "";
  std::optional<HttpReply> unknown = streams.Serve("job-nope", request, &sink);
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status, 404);

  std::thread first([&] { streams.Serve(job_id_, request, &sink); });
  ASSERT_TRUE(ft::testing::WaitFor([&] { return streams.open_streams() == 1; }));
  RecordingSink other;
  std::optional<HttpReply> refused = streams.Serve(job_id_, request, &other);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 429);
  EXPECT_TRUE(absl::StrContains(refused->body, "--console-max-streams")) << refused->body;
  // Shutdown ends the open stream, and no other starts.
  streams.CancelAll();
  first.join();
  EXPECT_EQ(streams.open_streams(), 0);
  std::optional<HttpReply> late = streams.Serve(job_id_, request, &other);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status, 503);
}

}  // namespace
}  // namespace ft::console
