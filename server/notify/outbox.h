// The durable webhook outbox: one row per (event, URL) in ftd's SQLite database (table
// webhook_outbox, job_store.cc's migration v3), added in the transaction that stores the event
// (webhook_tap.h) and removed once delivered or given up. A row outlives kill -9 and restarts:
// delivery is at least once, and a row sent but not yet removed when ftd dies is sent again
// with the same delivery id.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/store/job_store.h"
#include "server/store/sqlite_db.h"

namespace ft::notify {

struct OutboxRow {
  int64_t id = 0;
  std::string delivery_id;  // sent as ftd-Delivery and the body's "id": the de-duplication key
  std::string url;
  bool operator_url = false;  // from --webhook-url: trusted, no address policy
  std::string event_type;
  std::string job_id;
  std::string body;
  absl::Time created;
  int attempts = 0;  // failed attempts so far
};

class Outbox {
 public:
  explicit Outbox(store::JobStore* store) : store_(store) {}

  // Adds `row` (its id is assigned; attempts start at 0), due at once. Call inside the store's
  // transaction (store::EventTap) with its connection.
  static absl::Status Add(store::SqliteDb& db, const OutboxRow& row);

  // Up to `limit` rows due at `now`, oldest due first, leaving out the ids in `skip` (in flight).
  absl::StatusOr<std::vector<OutboxRow>> Due(absl::Time now, int limit,
                                             const std::set<int64_t>& skip);
  // When the next row falls due; nullopt when the outbox is empty.
  absl::StatusOr<std::optional<absl::Time>> NextDue();
  absl::Status Remove(int64_t id);
  absl::Status Reschedule(int64_t id, int attempts, absl::Time next, const std::string& error);
  absl::StatusOr<int64_t> Count();

 private:
  store::JobStore* const store_;
};

}  // namespace ft::notify
