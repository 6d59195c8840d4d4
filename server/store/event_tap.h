// Lets another table follow the job log in the same transaction (the webhook outbox): the store
// calls the tap for every event it appends, inside the transaction that appends it, so the
// follower's rows commit or roll back with the event.
#pragma once

#include "absl/status/status.h"
#include "ft/v1/event.pb.h"
#include "ft/v1/job.pb.h"
#include "server/store/sqlite_db.h"

namespace ft::store {

class EventTap {
 public:
  virtual ~EventTap() = default;
  // Inside the transaction, under the store's lock; `event` has its job id and seq. An error
  // rolls the whole change back.
  virtual absl::Status OnEventAppended(SqliteDb& db, const ft::v1::Job& job,
                                       const ft::v1::JobEvent& event) = 0;
  // After a write (with or without events) is durable, outside the store's lock.
  virtual void AfterDurableWrite() {}
};

}  // namespace ft::store
