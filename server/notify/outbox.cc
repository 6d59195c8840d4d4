#include "server/notify/outbox.h"

#include "common/util/status_macros.h"

namespace ft::notify {

using store::SqliteDb;
using store::Statement;

absl::Status Outbox::Add(SqliteDb& db, const OutboxRow& row) {
  FT_ASSIGN_OR_RETURN(
      Statement insert,
      db.Prepare("INSERT INTO webhook_outbox (delivery_id, url, operator_url, event_type, job_id, "
                 "body, created_ms, next_attempt_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  const int64_t created_ms = absl::ToUnixMillis(row.created);
  insert.Bind(1, row.delivery_id)
      .Bind(2, row.url)
      .Bind(3, int64_t{row.operator_url ? 1 : 0})
      .Bind(4, row.event_type)
      .Bind(5, row.job_id)
      .Bind(6, row.body)
      .Bind(7, created_ms)
      .Bind(8, created_ms);
  return insert.Run();
}

absl::StatusOr<std::vector<OutboxRow>> Outbox::Due(absl::Time now, int limit,
                                                   const std::set<int64_t>& skip) {
  std::vector<OutboxRow> rows;
  FT_RETURN_IF_ERROR(store_->WithDatabase([&](SqliteDb& db) -> absl::Status {
    FT_ASSIGN_OR_RETURN(
        Statement select,
        db.Prepare("SELECT id, delivery_id, url, operator_url, event_type, job_id, body, "
                   "created_ms, attempts FROM webhook_outbox WHERE next_attempt_ms <= ? "
                   "ORDER BY next_attempt_ms, id LIMIT ?"));
    select.Bind(1, absl::ToUnixMillis(now)).Bind(2, static_cast<int64_t>(limit + skip.size()));
    while (static_cast<int>(rows.size()) < limit) {
      FT_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      if (skip.count(select.ColumnInt(0)) > 0) continue;
      OutboxRow& r = rows.emplace_back();
      r.id = select.ColumnInt(0);
      r.delivery_id = select.ColumnText(1);
      r.url = select.ColumnText(2);
      r.operator_url = select.ColumnInt(3) != 0;
      r.event_type = select.ColumnText(4);
      r.job_id = select.ColumnText(5);
      r.body = select.ColumnText(6);
      r.created = absl::FromUnixMillis(select.ColumnInt(7));
      r.attempts = static_cast<int>(select.ColumnInt(8));
    }
    return absl::OkStatus();
  }));
  return rows;
}

absl::StatusOr<std::optional<absl::Time>> Outbox::NextDue() {
  std::optional<absl::Time> next;
  FT_RETURN_IF_ERROR(store_->WithDatabase([&](SqliteDb& db) -> absl::Status {
    FT_ASSIGN_OR_RETURN(Statement select,
                        db.Prepare("SELECT MIN(next_attempt_ms) FROM webhook_outbox"));
    FT_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row && !select.ColumnIsNull(0)) next = absl::FromUnixMillis(select.ColumnInt(0));
    return absl::OkStatus();
  }));
  return next;
}

absl::Status Outbox::Remove(int64_t id) {
  return store_->WithDatabase([&](SqliteDb& db) -> absl::Status {
    FT_ASSIGN_OR_RETURN(Statement remove, db.Prepare("DELETE FROM webhook_outbox WHERE id = ?"));
    remove.Bind(1, id);
    return remove.Run();
  });
}

absl::Status Outbox::Reschedule(int64_t id, int attempts, absl::Time next,
                                const std::string& error) {
  return store_->WithDatabase([&](SqliteDb& db) -> absl::Status {
    FT_ASSIGN_OR_RETURN(Statement update,
                        db.Prepare("UPDATE webhook_outbox SET attempts = ?, next_attempt_ms = ?, "
                                   "last_error = ? WHERE id = ?"));
    update.Bind(1, int64_t{attempts}).Bind(2, absl::ToUnixMillis(next)).Bind(3, error).Bind(4, id);
    return update.Run();
  });
}

absl::StatusOr<int64_t> Outbox::Count() {
  int64_t count = 0;
  FT_RETURN_IF_ERROR(store_->WithDatabase([&](SqliteDb& db) -> absl::Status {
    FT_ASSIGN_OR_RETURN(Statement select, db.Prepare("SELECT COUNT(*) FROM webhook_outbox"));
    FT_ASSIGN_OR_RETURN(bool row, select.Step());
    if (row) count = select.ColumnInt(0);
    return absl::OkStatus();
  }));
  return count;
}

}  // namespace ft::notify
