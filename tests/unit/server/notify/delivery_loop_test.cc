// The delivery loop against a real HTTP responder on 127.0.0.1 (a small C++ one, answering from
// a script of statuses), with the outbox on a real SQLite file and a fake clock that makes the
// retries due: retried until delivered with the same id and body, given up at the deadline, and
// stopped in the middle of a request that never gets an answer. Also the TSan stage's test of
// the loop's threads.
#include "server/notify/delivery_loop.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/registry.h"
#include "server/metrics/webhook_metrics.h"
#include "server/notify/outbox.h"
#include "server/notify/webhook_signer.h"
#include "server/notify/webhook_tap.h"
#include "server/sched/clock.h"
#include "server/store/job_store.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/server/notify/loopback_socket.h"

namespace ft::notify {
namespace {

struct Received {
  std::string delivery_id;
  std::string signature;
  std::string body;
};

// Answers each POST with the next status of `script` (then 204); 0 means: never answer.
class Responder {
 public:
  explicit Responder(std::deque<int> script) : script_(std::move(script)) {
    fd_ = ListenOnLoopback(&port_);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
    for (int fd : held_) close(fd);
    close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<Received> received() {
    absl::MutexLock lock(&mu_);
    return received_;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      const int client = accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      Handle(client);
    }
  }
  void Handle(int client) {
    std::string data;
    char buffer[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          for (absl::string_view line : absl::StrSplit(data.substr(0, header_end), "\r\n")) {
            std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
            const std::string name = absl::AsciiStrToLower(kv.first);
            const std::string value(absl::StripAsciiWhitespace(kv.second));
            if (name == "content-length") (void)absl::SimpleAtoi(value, &content_length);
            if (name == "ftd-delivery") current_.delivery_id = value;
            if (name == "ftd-signature") current_.signature = value;
          }
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      const ssize_t n = read(client, buffer, sizeof(buffer));
      if (n <= 0) {
        close(client);
        return;
      }
      data.append(buffer, n);
    }
    current_.body = data.substr(header_end + 4, content_length);
    int status = 204;
    {
      absl::MutexLock lock(&mu_);
      received_.push_back(current_);
      if (!script_.empty()) {
        status = script_.front();
        script_.pop_front();
      }
    }
    if (status == 0) {  // hold the connection open, unanswered
      held_.push_back(client);
      return;
    }
    const std::string answer = "HTTP/1.1 " + std::to_string(status) +
                               " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)!write(client, answer.data(), answer.size());
    close(client);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Received current_;
  std::vector<int> held_;
  absl::Mutex mu_;
  std::deque<int> script_ ABSL_GUARDED_BY(mu_);
  std::vector<Received> received_ ABSL_GUARDED_BY(mu_);
};

double CounterValue(prometheus::Registry& registry, const std::string& name,
                    const std::string& reason = "") {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      const bool match =
          reason.empty() || (!metric.label.empty() && metric.label[0].value == reason);
      if (match)
        return family.type == prometheus::MetricType::Counter ? metric.counter.value
                                                              : metric.gauge.value;
    }
  }
  return -1;
}

// Polls `done` (real time: the loop's threads run on their own) for up to 20 s.
bool Eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class DeliveryLoopTest : public ::testing::Test {
 protected:
  void Start(const std::string& url, RetrySchedule schedule, absl::Duration timeout) {
    tap_ = std::make_unique<WebhookTap>(WebhookTapOptions{{url}, false});
    auto store = store::JobStore::Open(dir_.Path("ftd.db"), tap_.get());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    outbox_ = std::make_unique<Outbox>(store_.get());
    DeliveryLoopOptions options;
    options.senders = 2;
    options.schedule = schedule;
    options.idle_poll = absl::Milliseconds(10);
    SenderOptions sender;
    sender.secret = "0123456789abcdef";
    sender.timeout = timeout;
    loop_ = DeliveryLoop::Start(options, sender, outbox_.get(), &clock_, &metrics_);
    tap_->SetOnRowsAdded([this] { loop_->Wake(); });
  }
  void TearDown() override {
    if (tap_) tap_->SetOnRowsAdded(nullptr);
    if (loop_) loop_->Stop();
  }
  void SubmitOne() {
    auto created = store_->CreateJob("", [&](ft::v1::Job& job, std::vector<ft::v1::JobEvent>& e) {
      job.set_state(ft::v1::QUEUED);
      ft::v1::JobEvent& event = e.emplace_back();
      event.mutable_time()->set_seconds(absl::ToUnixSeconds(clock_.Now()));
      event.mutable_state_change()->set_to(ft::v1::QUEUED);
      return absl::OkStatus();
    });
    ASSERT_TRUE(created.ok()) << created.status();
  }
  int64_t Rows() { return *outbox_->Count(); }
  double Failures() { return CounterValue(registry_, "ft_webhook_failed_attempts_total"); }

  ft::testing::TempDir dir_;
  sched::FakeClock clock_;
  prometheus::Registry registry_;
  metrics::WebhookMetrics metrics_{registry_};
  std::unique_ptr<WebhookTap> tap_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<DeliveryLoop> loop_;
};

TEST_F(DeliveryLoopTest, RetriesWithTheSameIdAndBodyUntilDelivered) {
  Responder responder({500, 503});
  RetrySchedule schedule;
  schedule.base = absl::Seconds(10);
  Start(responder.url(), schedule, absl::Seconds(10));
  SubmitOne();
  ASSERT_TRUE(Eventually([&] { return Failures() == 1; }));
  EXPECT_EQ(responder.received().size(), 1u);
  // Not due again before its backoff (at least half of 10 s) has passed.
  clock_.Advance(absl::Seconds(4));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(responder.received().size(), 1u);
  clock_.Advance(absl::Seconds(6));
  ASSERT_TRUE(Eventually([&] { return Failures() == 2; }));  // rescheduled before the advance
  clock_.Advance(absl::Seconds(20));  // the second backoff: 10..20 s
  ASSERT_TRUE(Eventually([&] { return Rows() == 0; }));
  const std::vector<Received> received = responder.received();
  ASSERT_EQ(received.size(), 3u);
  for (const Received& r : received) {
    EXPECT_EQ(r.delivery_id, received[0].delivery_id);
    EXPECT_EQ(r.body, received[0].body);
    const std::string t = r.signature.substr(2, r.signature.find(',') - 2);
    EXPECT_EQ(r.signature, SignatureValue("0123456789abcdef", std::stoll(t), r.body));
  }
  // The row goes before the counter moves (delivery_loop.cc): wait for it.
  EXPECT_TRUE(Eventually([&] {
    return CounterValue(registry_, "ft_webhook_delivered_total") == 1;
  }));
  EXPECT_EQ(CounterValue(registry_, "ft_webhook_failed_attempts_total"), 2);
}

TEST_F(DeliveryLoopTest, GivesUpWhenTheNextTryWouldBePastTheDeadline) {
  Responder responder({500, 500, 500, 500});
  RetrySchedule schedule;
  schedule.base = absl::Seconds(10);
  schedule.give_up_after = absl::Seconds(15);
  Start(responder.url(), schedule, absl::Seconds(10));
  SubmitOne();
  ASSERT_TRUE(Eventually([&] { return Failures() == 1; }));
  clock_.Advance(absl::Seconds(10));  // the second try, whose next would be 10..20 s later
  ASSERT_TRUE(Eventually([&] { return Rows() == 0; }));
  EXPECT_EQ(responder.received().size(), 2u);
  EXPECT_TRUE(Eventually([&] {
    return CounterValue(registry_, "ft_webhook_given_up_total", "expired") == 1;
  }));
  EXPECT_EQ(CounterValue(registry_, "ft_webhook_delivered_total"), 0);
}

TEST_F(DeliveryLoopTest, StopAbortsAnUnansweredRequestAndKeepsItsRow) {
  Responder responder({0});
  // Longer than the test's CTest timeout: only the abort can end the request in time.
  Start(responder.url(), RetrySchedule{}, absl::Seconds(300));
  SubmitOne();
  ASSERT_TRUE(Eventually([&] { return responder.received().size() == 1; }));
  loop_->Stop();
  EXPECT_EQ(Rows(), 1);
  EXPECT_EQ(CounterValue(registry_, "ft_webhook_failed_attempts_total"), 0);
}

}  // namespace
}  // namespace ft::notify
