// The outbox on a real SQLite file: rows added in the event's transaction (and only when it
// commits), their bodies, rescheduling, removal and survival across a reopen. And the sender's
// address check on real sockets.
#include "server/notify/outbox.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>

#include "server/notify/webhook_sender.h"
#include "server/notify/webhook_tap.h"
#include "server/store/job_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/server/notify/loopback_socket.h"

namespace ft::notify {
namespace {

using ft::v1::Job;
using ft::v1::JobEvent;

JobEvent StateChange(ft::v1::JobState from, ft::v1::JobState to, int64_t unix_seconds) {
  JobEvent event;
  event.mutable_time()->set_seconds(unix_seconds);
  event.mutable_state_change()->set_from(from);
  event.mutable_state_change()->set_to(to);
  event.mutable_state_change()->set_reason("because");
  return event;
}

class OutboxTest : public ::testing::Test {
 protected:
  void Open() {
    store_.reset();
    auto store = store::JobStore::Open(dir_.Path("ftd.db"), &tap_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    outbox_ = std::make_unique<Outbox>(store_.get());
  }
  void SetUp() override { Open(); }

  // A queued job with `notify` URLs, created with its QUEUED event.
  Job Submit(const std::vector<std::string>& notify) {
    auto created = store_->CreateJob("", [&](Job& job, std::vector<JobEvent>& events) {
      job.set_state(ft::v1::QUEUED);
      job.mutable_spec()->set_model("scratch:bloom-tiny");
      for (const std::string& url : notify) job.mutable_spec()->add_notify(url);
      events.push_back(StateChange(ft::v1::JOB_STATE_UNSPECIFIED, ft::v1::QUEUED, 1000));
      return absl::OkStatus();
    });
    EXPECT_TRUE(created.ok()) << created.status();
    return created->job;
  }

  std::vector<OutboxRow> AllDue(absl::Time now = absl::FromUnixSeconds(1 << 30)) {
    auto rows = outbox_->Due(now, 100, {});
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<OutboxRow>{};
  }

  ft::testing::TempDir dir_;
  WebhookTap tap_{WebhookTapOptions{{"https://operator.example/hook"}, false}};
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<Outbox> outbox_;
};

TEST_F(OutboxTest, StateChangesBecomeOneRowPerUrlWithTheEventInTheBody) {
  const Job job = Submit({"https://a.example/1", "https://b.example/2"});
  std::vector<OutboxRow> rows = AllDue();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].url, "https://operator.example/hook");
  EXPECT_TRUE(rows[0].operator_url);
  EXPECT_EQ(rows[1].url, "https://a.example/1");
  EXPECT_FALSE(rows[1].operator_url);
  EXPECT_NE(rows[1].delivery_id, rows[2].delivery_id);
  for (const OutboxRow& row : rows) {
    EXPECT_EQ(row.event_type, "job.queued");
    EXPECT_EQ(row.job_id, job.id());
    EXPECT_EQ(row.created, absl::FromUnixSeconds(1000));
    const nlohmann::json body = nlohmann::json::parse(row.body);
    EXPECT_EQ(body["id"], row.delivery_id);
    EXPECT_EQ(body["type"], "job.queued");
    EXPECT_EQ(body["job"]["id"], job.id());
    EXPECT_EQ(body["job"]["state"], "QUEUED");
    EXPECT_EQ(body["job"]["model"], "scratch:bloom-tiny");
    EXPECT_EQ(body["event"]["seq"], "1");  // uint64 in protobuf's JSON mapping: a string
    EXPECT_EQ(body["event"]["stateChange"]["to"], "QUEUED");
    EXPECT_EQ(body["event"]["stateChange"]["reason"], "because");
  }

  // Log lines and progress send nothing; a state change does.
  ASSERT_TRUE(store_
                  ->UpdateJob(job.id(),
                              [](Job& j, std::vector<JobEvent>& events) {
                                events.emplace_back().mutable_log()->set_message("hello");
                                j.set_state(ft::v1::CANCELLED);
                                events.push_back(
                                    StateChange(ft::v1::QUEUED, ft::v1::CANCELLED, 1001));
                                return absl::OkStatus();
                              })
                  .ok());
  rows = AllDue();
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[5].event_type, "job.cancelled");
  EXPECT_EQ(nlohmann::json::parse(rows[5].body)["event"]["seq"], "3");
}

TEST_F(OutboxTest, ARolledBackChangeAddsNothing) {
  const Job job = Submit({});
  ASSERT_EQ(AllDue().size(), 1u);
  auto failed = store_->UpdateJob(job.id(), [](Job& j, std::vector<JobEvent>& events) {
    events.push_back(StateChange(ft::v1::QUEUED, ft::v1::RUNNING, 1001));
    return absl::FailedPreconditionError("no");
  });
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(AllDue().size(), 1u);
}

TEST_F(OutboxTest, RescheduledRowsWaitAndSurviveAReopen) {
  Submit({"https://a.example/1"});
  std::vector<OutboxRow> rows = AllDue();
  ASSERT_EQ(rows.size(), 2u);
  const absl::Time later = absl::FromUnixSeconds(5000);
  ASSERT_TRUE(outbox_->Reschedule(rows[0].id, 1, later, "HTTP 503").ok());
  ASSERT_TRUE(outbox_->Remove(rows[1].id).ok());
  EXPECT_EQ(AllDue(later - absl::Seconds(1)).size(), 0u);
  auto next = outbox_->NextDue();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, later);

  Open();  // as after kill -9: the row, its attempts and its time are on disk
  rows = AllDue(later);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].attempts, 1);
  EXPECT_EQ(*outbox_->Count(), 1);
  // In-flight rows are left out.
  EXPECT_TRUE(outbox_->Due(later, 10, {rows[0].id})->empty());
}

// A TCP listener on 127.0.0.1 that counts the connections it accepted.
class Listener {
 public:
  Listener() { fd_ = ListenOnLoopback(&port_, SOCK_NONBLOCK); }
  ~Listener() { close(fd_); }
  int port() const { return port_; }
  // Connections waiting to be accepted, now accepted and closed.
  int Accepted() {
    int count = 0;
    while (true) {
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) return count;
      close(client);
      ++count;
    }
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(WebhookSenderTest, AJobUrlNeverConnectsToAnInternalAddress) {
  Listener listener;
  std::atomic<bool> stopping{false};
  SenderOptions options;
  options.timeout = absl::Milliseconds(500);
  WebhookSender sender(options, &stopping);
  WebhookRequest request;
  // A name, so that only the check of the resolved address can catch it.
  request.url = "http://localhost:" + std::to_string(listener.port()) + "/hook";
  request.body = "{}";
  const SendResult refused = sender.Send(request);
  EXPECT_TRUE(refused.refused_address) << refused.error;
  EXPECT_EQ(refused.http_status, 0);
  EXPECT_EQ(listener.Accepted(), 0);

  // The operator's own URL is trusted: it connects (and gets no HTTP answer here).
  request.operator_url = true;
  const SendResult sent = sender.Send(request);
  EXPECT_FALSE(sent.refused_address);
  EXPECT_FALSE(sent.error.empty());
  EXPECT_GE(listener.Accepted(), 1);
}

}  // namespace
}  // namespace ft::notify
