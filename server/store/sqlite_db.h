// A thin RAII layer over one SQLite connection: statements, binding, transactions, migrations.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ft::store {

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) {
    other.stmt_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, const std::string& text);
  Statement& BindBlob(int index, const std::string& bytes);
  Statement& BindNull(int index);

  // Steps once: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps to completion, for statements that return no rows.
  absl::Status Run();

  int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string ColumnText(int column) const;
  std::string ColumnBlob(int column) const;
  bool ColumnIsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database in WAL mode with full fsync and a busy timeout, then
  // applies `migrations[v..]` where v is the file's schema version (PRAGMA user_version).
  // Migration i takes the schema from version i to i+1.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        const std::vector<std::string>& migrations);
  ~SqliteDb();

  absl::StatusOr<Statement> Prepare(const std::string& sql);
  absl::Status Exec(const std::string& sql);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it returns an error.
  absl::Status InTransaction(const std::function<absl::Status()>& body);
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  absl::StatusOr<int64_t> SchemaVersion();

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  absl::Status Migrate(const std::vector<std::string>& migrations);
  sqlite3* db_;
};

// An absl::Status for SQLite result `rc`, with `context` and SQLite's message.
absl::Status SqliteError(sqlite3* db, int rc, const std::string& context);

}  // namespace ft::store
