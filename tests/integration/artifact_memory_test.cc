// ftd's memory while it streams a large artifact: the real ftd process, a sparse file in a job's
// folder (FT_ARTIFACT_TEST_BYTES, default 512 MiB; tests/bench/artifact_download_rss.sh runs it
// with 2 GiB), read to the end over real gRPC while ftd's resident set is sampled from /proc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/ftd_process.h"
#include "tests/support/prerequisite.h"

// An ftd built with AddressSanitizer keeps freed memory in its quarantine (256 MiB by default), so
// its resident set measures the sanitizer, not the download.
#if defined(__SANITIZE_ADDRESS__)
#define FT_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FT_ADDRESS_SANITIZER 1
#endif
#endif

namespace ft::testing {
namespace {

// Resident bytes of `pid` (VmRSS), 0 when unreadable.
uint64_t ResidentBytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

uint64_t TestBytes() {
  const char* bytes = std::getenv("FT_ARTIFACT_TEST_BYTES");
  return bytes != nullptr ? std::stoull(bytes) : uint64_t{512} << 20;
}

TEST(ArtifactMemoryTest, FtdStreamsALargeFileWithFlatMemory) {
  TempDir dir;
  FtdProcessOptions options;
  options.home = dir.Path("home");
  options.local_workers = 0;  // the job stays queued: only its folder matters here
  FtdProcess ftd(options);
  ftd.Start();
  const std::string csv = dir.Path("train.csv");
  WriteToyCsv(csv, 20, 1);
  ft::v1::SubmitJobResponse submitted;
  ASSERT_TRUE(Submit(ftd, TinySpec(csv, 1), "", &submitted).ok());
  const std::string job_id = submitted.job().id();
  const std::filesystem::path folder(submitted.job().output_dir());
  std::filesystem::create_directories(folder);
  const uint64_t size = TestBytes();
  { std::ofstream(folder / "model.safetensors", std::ios::binary).close(); }
  std::filesystem::resize_file(folder / "model.safetensors", size);  // sparse: instant

  // Listing hashes the file once (ftd reads it in 1 MiB pieces): the baseline is taken after it.
  grpc::ClientContext list_context;
  list_context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(2));
  ft::v1::ListArtifactsRequest list;
  list.set_job_id(job_id);
  ft::v1::ListArtifactsResponse listed;
  ASSERT_TRUE(ftd.stub().ListArtifacts(&list_context, list, &listed).ok());
  ASSERT_EQ(listed.artifacts_size(), 1);
  const uint64_t before = ResidentBytes(ftd.pid());
  ASSERT_GT(before, 0u);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  ft::v1::DownloadArtifactRequest request;
  request.set_job_id(job_id);
  request.set_name("model.safetensors");
  const auto start = std::chrono::steady_clock::now();
  auto reader = ftd.stub().DownloadArtifact(&context, request);
  ft::v1::ArtifactChunk chunk;
  uint64_t received = 0;
  uint64_t peak = before;
  bool all_zero = true;
  while (reader->Read(&chunk)) {
    EXPECT_EQ(chunk.offset(), received);
    received += chunk.data().size();
    all_zero = all_zero &&
               std::all_of(chunk.data().begin(), chunk.data().end(), [](char c) { return c == 0; });
    peak = std::max(peak, ResidentBytes(ftd.pid()));
  }
  const grpc::Status finished = reader->Finish();
  ASSERT_TRUE(finished.ok()) << finished.error_message() << "\n" << ftd.Log();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(received, size);
  EXPECT_TRUE(all_zero);
  const double growth_mib = (static_cast<double>(peak) - static_cast<double>(before)) / (1 << 20);
  std::printf("streamed %.0f MiB in %.2f s (%.0f MiB/s); ftd RSS %.1f MiB before, peak +%.1f MiB\n",
              size / 1048576.0, seconds, size / 1048576.0 / seconds, before / 1048576.0,
              growth_mib);
#ifdef FT_ADDRESS_SANITIZER
  FT_SKIP_PREREQUISITE_MISSING() << "ftd without AddressSanitizer: the stream was checked, its "
                                    "memory cannot be (ASan's quarantine holds freed chunks)";
#endif
  // One 1 MiB chunk in flight, plus gRPC's buffers: far below the file, whatever its size.
  EXPECT_LT(growth_mib, 64.0);
}

}  // namespace
}  // namespace ft::testing
