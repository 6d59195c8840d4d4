#include "server/store/sqlite_db.h"

#include "absl/strings/str_cat.h"

namespace ft::store {

absl::Status SqliteError(sqlite3* db, int rc, const std::string& context) {
  const std::string message =
      absl::StrCat(context, ": ", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::UnavailableError(message);
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    default:
      return absl::InternalError(message);
  }
}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
    return;
  }
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  *in_use_ = false;
}

Statement& Statement::Bind(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::Bind(int index, const std::string& text) {
  sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindBlob(int index, const std::string& bytes) {
  sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::BindNull(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

absl::StatusOr<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, absl::StrCat("sqlite step '", sqlite3_sql(stmt_), "'"));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

std::string Statement::ColumnText(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, column));
}

std::string Statement::ColumnBlob(int column) const {
  const void* blob = sqlite3_column_blob(stmt_, column);
  if (blob == nullptr) return "";
  return std::string(static_cast<const char*>(blob), sqlite3_column_bytes(stmt_, column));
}

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(
    const std::string& path, const std::vector<std::string>& migrations) {
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(raw, rc, absl::StrCat("open database ", path));
    sqlite3_close(raw);
    return status;
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  sqlite3_busy_timeout(raw, 10000);
  // WAL lets readers proceed during writes; synchronous=FULL makes a commit durable against
  // power loss too, so an acknowledged job is never lost.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    absl::Status status = db->Exec(pragma);
    if (!status.ok()) return status;
  }
  absl::Status status = db->Migrate(migrations);
  if (!status.ok()) return status;
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached->stmt);
  sqlite3_close_v2(db_);
}

absl::StatusOr<Statement> SqliteDb::Prepare(const std::string& sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end() && !it->second->in_use) {
    it->second->in_use = true;
    return Statement(db_, it->second->stmt, &it->second->in_use);
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, absl::StrCat("prepare '", sql, "'"));
  if (it != statements_.end() || statements_.size() >= kMaxCachedStatements) {
    return Statement(db_, stmt);  // in use, or the cache is full: this one is finalized after use
  }
  auto cached = std::make_unique<CachedStatement>();
  cached->stmt = stmt;
  cached->in_use = true;
  bool* in_use = &cached->in_use;
  statements_.emplace(sql, std::move(cached));
  return Statement(db_, stmt, in_use);
}

absl::Status SqliteDb::Exec(const std::string& sql) {
  char* error = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    const std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    absl::Status status = SqliteError(nullptr, rc, absl::StrCat("exec '", sql, "'"));
    return absl::Status(status.code(), absl::StrCat(status.message(), " (", message, ")"));
  }
  return absl::OkStatus();
}

absl::Status SqliteDb::Run(const std::string& sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->Run();
}

absl::Status SqliteDb::InTransaction(const std::function<absl::Status()>& body) {
  absl::Status status = Run("BEGIN IMMEDIATE");
  if (!status.ok()) return status;
  status = body();
  if (!status.ok()) {
    Run("ROLLBACK").IgnoreError();
    return status;
  }
  status = Run("COMMIT");
  if (!status.ok()) Run("ROLLBACK").IgnoreError();
  return status;
}

absl::StatusOr<int64_t> SqliteDb::SchemaVersion() {
  absl::StatusOr<Statement> stmt = Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  return *row ? stmt->ColumnInt(0) : 0;
}

absl::Status SqliteDb::Migrate(const std::vector<std::string>& migrations) {
  return InTransaction([&]() -> absl::Status {
    absl::StatusOr<int64_t> version = SchemaVersion();
    if (!version.ok()) return version.status();
    if (*version > static_cast<int64_t>(migrations.size())) {
      return absl::FailedPreconditionError(
          absl::StrCat("database schema version ", *version, " is newer than this ftd (",
                       migrations.size(), "); refusing to open it"));
    }
    for (size_t v = *version; v < migrations.size(); ++v) {
      absl::Status status = Exec(migrations[v]);
      if (!status.ok()) return status;
      status = Exec(absl::StrCat("PRAGMA user_version = ", v + 1));
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  });
}

}  // namespace ft::store
