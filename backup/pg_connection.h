// A libpq connection to the cluster for the commands that talk to it (check): connection settings from the pg1-*
// options, one-row queries, errors in pgBackRest's terms. Lives in the pgbr_backup_pg library so that only the
// tools link libpq (the daemon never does).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

struct pg_conn;

namespace pgbr::backup {

struct PgConnectionOptions {
  std::optional<std::string> socketPath;  // pg1-socket-path: directory of the unix socket (libpq default when unset)
  unsigned port = 5432;                    // pg1-port
  std::optional<std::string> user;         // pg1-user (libpq default: the OS user)
  std::string database = "postgres";       // pg1-database
  std::string applicationName = "pgbr";
};

// Not thread-safe. Move-only; closes the connection on destruction.
class PgConnection {
 public:
  // Throws CommandError(DbConnect) with libpq's reason and a hint naming the options.
  static PgConnection connect(const PgConnectionOptions& options);

  PgConnection(PgConnection&&) noexcept;
  PgConnection& operator=(PgConnection&&) noexcept;
  ~PgConnection();

  // Runs `sql` and returns the columns of its single row as text (NULL as nullopt). Throws CommandError(DbQuery)
  // when the query fails or does not return exactly one row.
  std::vector<std::optional<std::string>> queryRow(const std::string& sql);
  // Runs `sql` and returns every row (possibly none). Throws CommandError(DbQuery) when the query fails.
  std::vector<std::vector<std::optional<std::string>>> query(const std::string& sql);

 private:
  struct Closer {
    void operator()(pg_conn* connection) const;
  };
  explicit PgConnection(std::unique_ptr<pg_conn, Closer> connection, std::string description);

  std::unique_ptr<pg_conn, Closer> connection_;
  std::string description_;  // "socket /tmp, port 5432" for messages
};

}  // namespace pgbr::backup
