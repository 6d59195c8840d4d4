// ListArtifacts and DownloadArtifact over a real gRPC socket, in-process, with real bearer-token
// authentication, a real JobManager and store, and a job folder on disk; plus ftctl's download
// (client/lib/rpc/artifact_calls.h) against it. Digests are checked against coreutils'
// sha256sum, not the implementation under test.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "client/lib/rpc/artifact_calls.h"
#include "ft/v1/finetune_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "server/api/blocking_call_pool.h"
#include "server/api/download_reactor.h"
#include "server/api/finetune_service.h"
#include "server/artifacts/artifact_catalog.h"
#include "server/auth/authenticator.h"
#include "server/metrics/server_metrics.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::api {
namespace {

using ft::testing::TempDir;

constexpr char kAliceToken[] = "alice-token-0123456789";
constexpr char kBobToken[] = "bob-token-0123456789ab";
constexpr char kAdminToken[] = "admin-token-0123456789";

// Bytes that differ at every offset, so that a chunk sent at the wrong place cannot pass.
std::string PseudoRandomBytes(size_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(random() & 0xff);
  return bytes;
}

// coreutils' digest of a file: the independent reference.
std::string Sha256Sum(const std::string& path) {
  std::string command = "sha256sum '" + path + "'";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char line[256] = {};
  const bool got = std::fgets(line, sizeof(line), pipe) != nullptr;
  pclose(pipe);
  return got ? std::string(line).substr(0, 64) : "";
}

class ArtifactApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Write("train.csv", ft::testing::SmallCsv());
    const std::string tokens =
        dir_.Write("tokens", std::string(kAliceToken) + " alice user\n" + kBobToken +
                                 " bob user\n" + kAdminToken + " root admin\n");
    auto store = store::JobStore::Open(dir_.Path("ftd.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    metrics_ = std::make_unique<metrics::ServerMetrics>(registry_, &clock_, absl::Seconds(60));
    sched::JobManagerOptions options;
    options.base_dir = dir_.path().string();
    folders_ = ft::testing::JobFoldersIn(dir_.Path("home"));
    auto manager = sched::JobManager::Create(options, store_.get(), folders_.get(), &hub_, &clock_,
                                             metrics_.get(), nullptr);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
    auth::AuthenticatorOptions auth_options;
    auth_options.token_file = tokens;
    auto auth = auth::Authenticator::Create(auth_options);
    ASSERT_TRUE(auth.ok()) << auth.status();
    auth_ = std::move(*auth);
    catalog_ = std::make_unique<artifacts::ArtifactCatalog>(folders_.get());
    io_ = std::make_unique<BlockingCallPool>(2);
    service_ = std::make_unique<FinetuneServiceImpl>(manager_.get(), store_.get(), &hub_,
                                                     metrics_.get(), auth_.get(), nullptr, nullptr,
                                                     catalog_.get(), io_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials());
    stub_ = ft::v1::FinetuneService::NewStub(channel_);

    auto job = manager_->Submit(ft::testing::ValidSpec(csv_), "", "alice");
    ASSERT_TRUE(job.ok()) << job.status();
    job_id_ = job->job.id();
    folder_ = job->job.output_dir();
    weights_ = PseudoRandomBytes(3 * DownloadReactor::kChunkBytes + 17, 7);
    Put("config.json", "{\"model_type\": \"bloom\"}\n");
    Put("model.safetensors", weights_);
    Put("checkpoints/step-00000004/state.pt", PseudoRandomBytes(1000, 8));
    Put("checkpoints/step-00000004/COMPLETE", "{}");
    Put("checkpoints/.partial-step-00000008/state.pt", "half written");
    Put("result.json", "{}");
    Put("events.jsonl", "");
    outside_ = dir_.Write("outside/secret.txt", "not yours");
    std::filesystem::create_symlink(outside_, std::filesystem::path(folder_) / "link");
    std::filesystem::create_directory_symlink(dir_.Path("outside"),
                                              std::filesystem::path(folder_) / "linked");
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  void Put(const std::string& name, const std::string& bytes) {
    const std::filesystem::path path = std::filesystem::path(folder_) / name;
    std::filesystem::create_directories(path.parent_path());
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    std::fwrite(bytes.data(), 1, bytes.size(), file);
    std::fclose(file);
  }

  void Authorize(grpc::ClientContext* context, const std::string& token) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  }

  grpc::Status List(const std::string& token, ft::v1::ListArtifactsResponse* response,
                    const std::string& job_id = "") {
    grpc::ClientContext context;
    Authorize(&context, token);
    ft::v1::ListArtifactsRequest request;
    request.set_job_id(job_id.empty() ? job_id_ : job_id);
    return stub_->ListArtifacts(&context, request, response);
  }

  grpc::Status Download(const std::string& token, const std::string& name, uint64_t offset,
                        std::vector<ft::v1::ArtifactChunk>* chunks) {
    grpc::ClientContext context;
    Authorize(&context, token);
    ft::v1::DownloadArtifactRequest request;
    request.set_job_id(job_id_);
    request.set_name(name);
    request.set_offset(offset);
    auto reader = stub_->DownloadArtifact(&context, request);
    ft::v1::ArtifactChunk chunk;
    while (reader->Read(&chunk)) chunks->push_back(chunk);
    return reader->Finish();
  }

  client::FtdConnection Connection(const std::string& token) {
    client::FtdConnection ftd;
    ftd.stub = stub_.get();
    ftd.channel = channel_.get();
    ftd.server = "in-process";
    ftd.token = token;
    return ftd;
  }

  TempDir dir_;
  std::string csv_;
  prometheus::Registry registry_;
  sched::RealClock clock_;
  sched::EventHub hub_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobFolders> folders_;
  std::unique_ptr<metrics::ServerMetrics> metrics_;
  std::unique_ptr<sched::JobManager> manager_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<artifacts::ArtifactCatalog> catalog_;
  std::unique_ptr<BlockingCallPool> io_;
  std::unique_ptr<FinetuneServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub_;
  std::string job_id_;
  std::string folder_;
  std::string weights_;
  std::string outside_;
};

TEST_F(ArtifactApiTest, ListsRegularFilesWithSizeDigestAndKindLeavingOutLinksAndPartials) {
  ft::v1::ListArtifactsResponse response;
  ASSERT_TRUE(List(kAliceToken, &response).ok());
  std::vector<std::string> names;
  for (const auto& artifact : response.artifacts()) {
    names.push_back(artifact.name());
    const std::string path = (std::filesystem::path(folder_) / artifact.name()).string();
    EXPECT_EQ(artifact.size_bytes(), std::filesystem::file_size(path)) << artifact.name();
    EXPECT_EQ(artifact.sha256(), Sha256Sum(path)) << artifact.name();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"checkpoints/step-00000004/COMPLETE",
                                             "checkpoints/step-00000004/state.pt", "config.json",
                                             "events.jsonl", "model.safetensors", "result.json"}));
  EXPECT_EQ(response.artifacts(0).kind(), ft::v1::ARTIFACT_CHECKPOINT);
  EXPECT_EQ(response.artifacts(0).checkpoint(), "step-00000004");
  EXPECT_EQ(response.artifacts(2).kind(), ft::v1::ARTIFACT_MODEL);
  EXPECT_EQ(response.artifacts(3).kind(), ft::v1::ARTIFACT_LOG);
  EXPECT_EQ(response.artifacts(4).kind(), ft::v1::ARTIFACT_MODEL);
  EXPECT_EQ(response.artifacts(5).kind(), ft::v1::ARTIFACT_RESULT);
}

TEST_F(ArtifactApiTest, DownloadsInChunksAndResumesFromAnOffset) {
  std::vector<ft::v1::ArtifactChunk> chunks;
  ASSERT_TRUE(Download(kAliceToken, "model.safetensors", 0, &chunks).ok());
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].artifact().size_bytes(), weights_.size());
  EXPECT_EQ(chunks[0].artifact().sha256(),
            Sha256Sum((std::filesystem::path(folder_) / "model.safetensors").string()));
  std::string assembled;
  for (const auto& chunk : chunks) {
    EXPECT_EQ(chunk.offset(), assembled.size());
    EXPECT_LE(chunk.data().size(), DownloadReactor::kChunkBytes);
    assembled += chunk.data();
  }
  EXPECT_TRUE(assembled == weights_);

  const uint64_t offset = DownloadReactor::kChunkBytes + DownloadReactor::kChunkBytes / 2 + 3;
  chunks.clear();
  ASSERT_TRUE(Download(kAliceToken, "model.safetensors", offset, &chunks).ok());
  std::string tail;
  for (const auto& chunk : chunks) tail += chunk.data();
  EXPECT_EQ(chunks.front().offset(), offset);
  EXPECT_TRUE(tail == weights_.substr(offset));

  // At the end: one message with the description and no data; past it: OUT_OF_RANGE.
  chunks.clear();
  ASSERT_TRUE(Download(kAliceToken, "model.safetensors", weights_.size(), &chunks).ok());
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_TRUE(chunks[0].data().empty());
  EXPECT_EQ(chunks[0].artifact().size_bytes(), weights_.size());
  chunks.clear();
  EXPECT_EQ(Download(kAliceToken, "model.safetensors", weights_.size() + 1, &chunks).error_code(),
            grpc::StatusCode::OUT_OF_RANGE);
}

TEST_F(ArtifactApiTest, AClientThatGoesAwayMidStreamEndsOnlyItsDownload) {
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    Authorize(&context, kAliceToken);
    ft::v1::DownloadArtifactRequest request;
    request.set_job_id(job_id_);
    request.set_name("model.safetensors");
    auto reader = stub_->DownloadArtifact(&context, request);
    ft::v1::ArtifactChunk chunk;
    ASSERT_TRUE(reader->Read(&chunk));
    context.TryCancel();
    while (reader->Read(&chunk)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  std::vector<ft::v1::ArtifactChunk> chunks;
  ASSERT_TRUE(Download(kAliceToken, "model.safetensors", 0, &chunks).ok());
  std::string assembled;
  for (const auto& chunk : chunks) assembled += chunk.data();
  EXPECT_TRUE(assembled == weights_);
}

TEST_F(ArtifactApiTest, AnotherUsersJobIsNotFoundAnAdminsIsFine) {
  ft::v1::ListArtifactsResponse response;
  EXPECT_EQ(List(kBobToken, &response).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(List("", &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(List(kAliceToken, &response, "job-404").error_code(), grpc::StatusCode::NOT_FOUND);
  std::vector<ft::v1::ArtifactChunk> chunks;
  EXPECT_EQ(Download(kBobToken, "config.json", 0, &chunks).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(chunks.empty());
  EXPECT_TRUE(List(kAdminToken, &response).ok());
  EXPECT_TRUE(Download(kAdminToken, "config.json", 0, &chunks).ok());
}

TEST_F(ArtifactApiTest, NoNameLeadsOutsideTheJobsFolder) {
  const std::string escape = "../../outside/secret.txt";
  for (const std::string& name :
       {escape, std::string("checkpoints/../../../outside/secret.txt"), outside_,
        std::string("link"), std::string("linked/secret.txt"), std::string("checkpoints//x"),
        std::string("./result.json"), std::string("")}) {
    std::vector<ft::v1::ArtifactChunk> chunks;
    const grpc::Status status = Download(kAliceToken, name, 0, &chunks);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << name << ": " << status.error_message();
    EXPECT_TRUE(chunks.empty()) << name;
  }
  // A FIFO would block a plain open() forever: it is refused as not a regular file.
  ASSERT_EQ(mkfifo((std::filesystem::path(folder_) / "fifo").c_str(), 0600), 0);
  for (const char* name : {"missing.bin", "checkpoints", "checkpoints/step-00000004", "fifo"}) {
    std::vector<ft::v1::ArtifactChunk> chunks;
    EXPECT_EQ(Download(kAliceToken, name, 0, &chunks).error_code(), grpc::StatusCode::NOT_FOUND)
        << name;
  }
}

TEST_F(ArtifactApiTest, ClientResumesAPartialFileAndRefusesOneWithWrongBytes) {
  ft::v1::ListArtifactsResponse response;
  ASSERT_TRUE(List(kAliceToken, &response).ok());
  const ft::v1::Artifact& weights = response.artifacts(4);
  ASSERT_EQ(weights.name(), "model.safetensors");
  const client::FtdConnection ftd = Connection(kAliceToken);
  const std::string out = dir_.Path("download/model.safetensors");

  // A cut-off earlier run left the first 1.5 chunks: the rest is fetched and the whole checked.
  dir_.Write("download/model.safetensors.part", weights_.substr(0, 1'500'000));
  auto outcome = client::DownloadArtifact(ftd, job_id_, weights, out);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, client::DownloadOutcome::kDownloaded);
  EXPECT_TRUE(ft::testing::ReadFileOrEmpty(out) == weights_);
  EXPECT_FALSE(std::filesystem::exists(out + ".part"));
  outcome = client::DownloadArtifact(ftd, job_id_, weights, out);
  ASSERT_TRUE(outcome.ok()) << outcome.status();
  EXPECT_EQ(*outcome, client::DownloadOutcome::kAlreadyThere);

  // A .part whose bytes are not the file's prefix: the digest catches it.
  std::filesystem::remove(out);
  std::string wrong = weights_.substr(0, 1'500'000);
  wrong[1234] ^= 1;
  dir_.Write("download/model.safetensors.part", wrong);
  outcome = client::DownloadArtifact(ftd, job_id_, weights, out);
  EXPECT_EQ(outcome.status().code(), absl::StatusCode::kDataLoss) << outcome.status();
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".part"));
}

}  // namespace
}  // namespace ft::api
