// Faults of the disk and of the files a job uses, with the real daemon and worker:
//   - a job folder on a full file system (a 64 KiB tmpfs) or a read-only one (a read-only bind
//     mount): its checkpoints fail with a warning naming the cause, and the job fails with an
//     error naming the file and the cause; the daemon and the next job are unaffected;
//   - a dataset that disappears or changes after SubmitJob accepted it, or a model file that
//     disappears: a clear job failure naming the file;
//   - a dataset that changes while the job runs: the attempt after a worker crash refuses the
//     checkpoint made from the old data, naming what differs.
// The mounts live in a private mount namespace that this test process enters before anything
// starts a thread (unshare needs a single-threaded process and root); where that is not
// possible the tests that need it are skipped, saying why.
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"
#include "tests/support/prerequisite.h"

namespace ft::testing {
namespace {

namespace fs = std::filesystem;

// Entered during static initialisation: gtest and gRPC have started no thread yet.
const std::string kNoPrivateMounts = [] {
  if (unshare(CLONE_NEWNS) != 0) return std::string("unshare(CLONE_NEWNS): ") + strerror(errno);
  // Mounts made here must not propagate to the host's namespace.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("mount --make-rprivate /: ") + strerror(errno);
  }
  return std::string();
}();

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Log events of a job, joined one per line.
std::string LogMessages(FtdProcess& ftd, const std::string& id) {
  std::string text;
  for (const ft::v1::JobEvent& event : WatchAll(ftd, id)) {
    if (event.has_log()) text += event.log().level() + ": " + event.log().message() + "\n";
  }
  return text;
}

// One worker; a long job holds it so that the jobs submitted next stay queued while the test
// prepares their fault, until Release() cancels it.
class OneBusyWorker {
 public:
  explicit OneBusyWorker(TempDir& dir) : dir_(dir), ftd_(FtdProcessOptions{dir.Path("home")}) {
    csv_ = dir.Path("toy.csv");
    WriteToyCsv(csv_, 80, 2);
    ftd_.Start();
    ft::v1::JobSpec spec = TinySpec(csv_, 0);
    spec.set_epochs(1000);
    ft::v1::SubmitJobResponse response;
    EXPECT_TRUE(Submit(ftd_, spec, "blocker", &response).ok());
    blocker_ = response.job().id();
    WaitFor(ftd_, blocker_, [](const ft::v1::Job& j) { return j.state() == ft::v1::RUNNING; });
  }

  FtdProcess& ftd() { return ftd_; }
  const std::string& csv() const { return csv_; }

  ft::v1::Job SubmitQueued(const ft::v1::JobSpec& spec) {
    ft::v1::SubmitJobResponse response;
    const grpc::Status status = Submit(ftd_, spec, "", &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.job().state(), ft::v1::QUEUED);
    return response.job();
  }

  void Release() {
    grpc::ClientContext context;
    ft::v1::CancelJobRequest request;
    request.set_job_id(blocker_);
    ft::v1::Job job;
    ASSERT_TRUE(ftd_.stub().CancelJob(&context, request, &job).ok());
  }

 private:
  TempDir& dir_;
  FtdProcess ftd_;
  std::string csv_;
  std::string blocker_;
};

// Unmounts on destruction, so that TempDir can remove the folder.
class Mount {
 public:
  Mount() = default;
  ~Mount() {
    if (!target_.empty()) umount2(target_.c_str(), MNT_DETACH);
  }
  // A tmpfs of `size` at `target`.
  bool Tmpfs(const std::string& target, const std::string& size) {
    fs::create_directories(target);
    const std::string data = "size=" + size;
    if (mount("tmpfs", target.c_str(), "tmpfs", 0, data.c_str()) != 0) return false;
    target_ = target;
    return true;
  }
  // `target` bound onto itself, read-only.
  bool ReadOnly(const std::string& target) {
    fs::create_directories(target);
    if (mount(target.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) != 0) return false;
    target_ = target;
    return mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
  }

 private:
  std::string target_;
};

TEST(StorageFaultsTest, FullOrReadOnlyJobFolderFailsThatJobOnly) {
  if (!kNoPrivateMounts.empty())
    FT_SKIP_PREREQUISITE_MISSING() << "no private mount namespace: " << kNoPrivateMounts;
  TempDir dir;
  OneBusyWorker worker(dir);
  ft::v1::JobSpec spec = TinySpec(worker.csv(), 6);
  spec.set_checkpoint_every_steps(2);
  const ft::v1::Job full = worker.SubmitQueued(spec);
  const ft::v1::Job read_only = worker.SubmitQueued(spec);
  const ft::v1::Job good = worker.SubmitQueued(spec);
  Mount full_mount;
  Mount read_only_mount;
  ASSERT_TRUE(full_mount.Tmpfs(full.output_dir(), "64k")) << strerror(errno);
  ASSERT_TRUE(read_only_mount.ReadOnly(read_only.output_dir())) << strerror(errno);
  worker.Release();

  const struct {
    const ft::v1::Job& job;
    const char* cause;
  } faults[] = {{full, "No space left on device"}, {read_only, "Read-only file system"}};
  for (const auto& fault : faults) {
    const ft::v1::Job job = WaitFor(worker.ftd(), fault.job.id(), IsFinished);
    std::printf("%s: the job %s: %s\n", fault.cause, ft::v1::JobState_Name(job.state()).c_str(),
                job.error().c_str());
    EXPECT_EQ(job.state(), ft::v1::FAILED) << fault.cause;
    // The error names the file that could not be written and why.
    EXPECT_TRUE(Contains(job.error(), job.output_dir())) << job.error();
    EXPECT_TRUE(Contains(job.error(), fault.cause)) << job.error();
    // Each checkpoint before that failed with a warning saying why, and training went on.
    const std::string log = LogMessages(worker.ftd(), job.id());
    EXPECT_TRUE(Contains(log, "warning: writing the checkpoint at step 2 failed")) << log;
    EXPECT_TRUE(Contains(log, fault.cause)) << log;
  }
  // The job after them, on the same worker, and the daemon are fine.
  const ft::v1::Job after = WaitFor(worker.ftd(), good.id(), IsFinished);
  EXPECT_EQ(after.state(), ft::v1::SUCCEEDED) << after.error();
  EXPECT_TRUE(fs::exists(after.output_dir() + "/model.safetensors"));
}

TEST(StorageFaultsTest, DatasetOrModelChangedAfterSubmissionFailsTheJobNamingTheFile) {
  TempDir dir;
  OneBusyWorker worker(dir);
  FtdProcess& ftd = worker.ftd();
  std::string removed_csv = dir.Path("removed.csv");
  std::string rewritten_csv = dir.Path("rewritten.csv");
  fs::copy_file(worker.csv(), removed_csv);
  fs::copy_file(worker.csv(), rewritten_csv);
  // A model folder that ftworker exported (the Hugging Face fixture), copied.
  const std::string model_dir = dir.Path("model");
  fs::copy(std::string(std::getenv("FT_SOURCE_DIR")) + "/tests/fixtures/hf/export", model_dir);
  ft::v1::JobSpec spec = TinySpec(worker.csv(), 2);

  ft::v1::JobSpec removed = spec;
  removed.mutable_dataset()->set_train(removed_csv);
  ft::v1::JobSpec rewritten = spec;
  rewritten.mutable_dataset()->set_train(rewritten_csv);
  ft::v1::JobSpec no_weights = spec;
  no_weights.set_model(model_dir);
  const ft::v1::Job removed_job = worker.SubmitQueued(removed);
  const ft::v1::Job rewritten_job = worker.SubmitQueued(rewritten);
  const ft::v1::Job no_weights_job = worker.SubmitQueued(no_weights);
  fs::remove(removed_csv);
  std::ofstream(rewritten_csv, std::ios::trunc) << "review,stars\nfine,5\n";
  fs::remove(model_dir + "/model.safetensors");
  worker.Release();

  ft::v1::Job job = WaitFor(ftd, removed_job.id(), IsFinished);
  EXPECT_EQ(job.state(), ft::v1::FAILED);
  EXPECT_TRUE(Contains(job.error(), "spec.dataset.train (" + removed_csv + ")")) << job.error();
  EXPECT_TRUE(Contains(job.error(), "no such file")) << job.error();
  job = WaitFor(ftd, rewritten_job.id(), IsFinished);
  EXPECT_EQ(job.state(), ft::v1::FAILED);
  EXPECT_TRUE(Contains(job.error(), rewritten_csv)) << job.error();
  EXPECT_TRUE(Contains(job.error(), "no column 'text'")) << job.error();
  job = WaitFor(ftd, no_weights_job.id(), IsFinished);
  EXPECT_EQ(job.state(), ft::v1::FAILED);
  EXPECT_TRUE(Contains(job.error(), model_dir + ": no model weights (model.safetensors"))
      << job.error();
  // The daemon still takes and runs jobs.
  const ft::v1::Job fine = WaitFor(ftd, worker.SubmitQueued(spec).id(), IsFinished);
  EXPECT_EQ(fine.state(), ft::v1::SUCCEEDED) << fine.error();
}

TEST(StorageFaultsTest, DatasetChangedDuringTheJobIsRefusedOnResume) {
  TempDir dir;
  const std::string csv = dir.Path("toy.csv");
  WriteToyCsv(csv, 52, 9);
  ft::v1::JobSpec spec = TinySpec(csv, 100);
  spec.set_epochs(20);
  spec.set_checkpoint_every_steps(5);
  FtdProcess ftd(FtdProcessOptions{dir.Path("home")});
  ftd.Start();
  const std::vector<pid_t> workers = ftd.ChildPids();
  ASSERT_EQ(workers.size(), 1u);
  ft::v1::SubmitJobResponse response;
  ASSERT_TRUE(Submit(ftd, spec, "", &response).ok());
  const std::string id = response.job().id();
  // Held still past its checkpoint at step 5, so that the kill meets the running job.
  WaitWithWorkerHeld(ftd, workers[0], id,
                     [](const ft::v1::Job& j) { return j.progress().step() >= 10; });
  // Other rows, same columns: the next attempt reads different training data.
  WriteToyCsv(csv, 52, 10);
  kill(workers[0], SIGKILL);
  const ft::v1::Job job = WaitFor(ftd, id, IsFinished);
  EXPECT_EQ(job.state(), ft::v1::FAILED);
  EXPECT_EQ(job.attempt(), 2u);
  EXPECT_TRUE(Contains(job.error(), "the checkpoint was written for other options")) << job.error();
  EXPECT_TRUE(Contains(job.error(), "train_data_hash")) << job.error();
}

}  // namespace
}  // namespace ft::testing
