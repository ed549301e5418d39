#include "backup/pg_connection.h"

#include <libpq-fe.h>

#include "backup/pgbackrest_error.h"

namespace pgbr::backup {

namespace {

struct ResultClear {
  void operator()(PGresult* result) const { PQclear(result); }
};

std::string trimmed(const char* text) {
  std::string message = text ? text : "";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

void PgConnection::Closer::operator()(pg_conn* connection) const { PQfinish(connection); }

PgConnection::PgConnection(std::unique_ptr<pg_conn, Closer> connection, std::string description)
    : connection_(std::move(connection)), description_(std::move(description)) {}
PgConnection::PgConnection(PgConnection&&) noexcept = default;
PgConnection& PgConnection::operator=(PgConnection&&) noexcept = default;
PgConnection::~PgConnection() = default;

PgConnection PgConnection::connect(const PgConnectionOptions& options) {
  const std::string port = std::to_string(options.port);
  std::vector<const char*> keys, values;
  auto set = [&](const char* key, const std::string& value) {
    keys.push_back(key);
    values.push_back(value.c_str());
  };
  if (options.socketPath) set("host", *options.socketPath);
  set("port", port);
  if (options.user) set("user", *options.user);
  set("dbname", options.database);
  set("application_name", options.applicationName);
  keys.push_back(nullptr);
  values.push_back(nullptr);
  std::string description = "database '" + options.database + "' on " +
                            (options.socketPath ? "socket directory '" + *options.socketPath + "'" : "the default socket") +
                            ", port " + port;
  std::unique_ptr<pg_conn, Closer> connection(PQconnectdbParams(keys.data(), values.data(), 0));
  if (!connection || PQstatus(connection.get()) != CONNECTION_OK)
    throw CommandError(ErrorCode::DbConnect,
                       "unable to connect to " + description + ": " +
                           trimmed(connection ? PQerrorMessage(connection.get()) : "out of memory"),
                       "is the cluster running? check pg1-socket-path, pg1-port, pg1-user and pg1-database");
  return PgConnection(std::move(connection), std::move(description));
}

std::vector<std::optional<std::string>> PgConnection::queryRow(const std::string& sql) {
  std::unique_ptr<PGresult, ResultClear> result(PQexec(connection_.get(), sql.c_str()));
  if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK)
    throw CommandError(ErrorCode::DbQuery, "unable to execute query '" + sql + "' on " + description_ + ": " +
                                               trimmed(PQerrorMessage(connection_.get())));
  if (PQntuples(result.get()) != 1)
    throw CommandError(ErrorCode::DbQuery, "query '" + sql + "' returned " + std::to_string(PQntuples(result.get())) +
                                               " rows, expected one");
  std::vector<std::optional<std::string>> row;
  for (int column = 0; column < PQnfields(result.get()); ++column)
    row.push_back(PQgetisnull(result.get(), 0, column) ? std::nullopt
                                                       : std::optional<std::string>(PQgetvalue(result.get(), 0, column)));
  return row;
}

}  // namespace pgbr::backup
