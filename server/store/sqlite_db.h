// A thin RAII layer over one SQLite connection: statements, binding, transactions, migrations.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ft::store {

class Statement {
 public:
  // `in_use` set: a statement of the connection's cache, reset (not finalized) when done and
  // marked free again.
  Statement(sqlite3* db, sqlite3_stmt* stmt, bool* in_use = nullptr)
      : db_(db), stmt_(stmt), in_use_(in_use) {}
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(other.stmt_), in_use_(other.in_use_) {
    other.stmt_ = nullptr;
    other.in_use_ = nullptr;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

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
  bool* in_use_;
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database in WAL mode with full fsync and a busy timeout, then
  // applies `migrations[v..]` where v is the file's schema version (PRAGMA user_version).
  // Migration i takes the schema from version i to i+1.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                                        const std::vector<std::string>& migrations);
  ~SqliteDb();

  // Compiled statements are kept per SQL text and reused (compiling costs more than running the
  // small statements of the job store); a text whose statement is in use gets a fresh one.
  absl::StatusOr<Statement> Prepare(const std::string& sql);
  absl::Status Exec(const std::string& sql);
  // One statement through the cache (Prepare), stepped to completion.
  absl::Status Run(const std::string& sql);
  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back when it returns an error.
  absl::Status InTransaction(const std::function<absl::Status()>& body);
  int64_t LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
  absl::StatusOr<int64_t> SchemaVersion();

 private:
  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  static constexpr size_t kMaxCachedStatements = 64;

  explicit SqliteDb(sqlite3* db) : db_(db) {}
  absl::Status Migrate(const std::vector<std::string>& migrations);
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<CachedStatement>> statements_;
};

// An absl::Status for SQLite result `rc`, with `context` and SQLite's message.
absl::Status SqliteError(sqlite3* db, int rc, const std::string& context);

}  // namespace ft::store
