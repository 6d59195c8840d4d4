// Readiness (when grpc.health.v1 says SERVING) and the worker registry behind it.
#include <gtest/gtest.h>

#include "server/health/readiness.h"
#include "server/sched/worker_registry.h"

namespace ft {
namespace {

TEST(ReadinessTest, ServingNeedsTheStoreAndAWorker) {
  EXPECT_TRUE(health::Evaluate({absl::OkStatus(), 1}).serving);
  EXPECT_TRUE(health::Evaluate({absl::OkStatus(), 4}).serving);
  EXPECT_EQ(health::Evaluate({absl::OkStatus(), 1}).reason, "");

  const health::Readiness no_worker = health::Evaluate({absl::OkStatus(), 0});
  EXPECT_FALSE(no_worker.serving);
  EXPECT_EQ(no_worker.reason, "no worker connected");

  const health::Readiness broken =
      health::Evaluate({absl::InternalError("disk I/O error"), 3});
  EXPECT_FALSE(broken.serving);
  EXPECT_EQ(broken.reason, "job store: disk I/O error");
}

TEST(WorkerRegistryTest, CountsWorkersHeardFromWithinTheWindow) {
  sched::WorkerRegistry registry;
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  const absl::Duration window = absl::Seconds(15);
  EXPECT_EQ(registry.Connected(t0, window), 0);
  registry.Seen("a", t0);
  registry.Seen("b", t0 + absl::Seconds(10));
  registry.Seen("a", t0 + absl::Seconds(1));
  EXPECT_EQ(registry.Connected(t0 + absl::Seconds(10), window), 2);
  // a was last heard at t0+1: counted up to t0+16 (inclusive), gone after; b until t0+25.
  EXPECT_EQ(registry.Connected(t0 + absl::Seconds(16), window), 2);
  EXPECT_EQ(registry.Connected(t0 + absl::Seconds(17), window), 1);
  EXPECT_EQ(registry.Connected(t0 + absl::Seconds(26), window), 0);
  // An older contact reported late does not move a worker back in time.
  registry.Seen("b", t0);
  EXPECT_EQ(registry.Connected(t0 + absl::Seconds(24), window), 1);
  // Heard again: counted again.
  registry.Seen("a", t0 + absl::Seconds(30));
  EXPECT_EQ(registry.Connected(t0 + absl::Seconds(31), window), 1);
}

}  // namespace
}  // namespace ft
