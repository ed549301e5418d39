#include "backup/pg_connection.h"

#include <dlfcn.h>
#include <libpq-fe.h>

#include "backup/pgbackrest_error.h"

namespace pgbr::backup {

namespace {

// libpq is loaded when the first connection is made, not linked: it pulls in some twenty libraries (Kerberos,
// LDAP, GnuTLS) whose loading would cost every archive-push about 14 ms, and only check connects.
struct LibPq {
  decltype(&PQconnectdbParams) connectdbParams;
  decltype(&PQstatus) status;
  decltype(&PQerrorMessage) errorMessage;
  decltype(&PQfinish) finish;
  decltype(&PQexec) exec;
  decltype(&PQresultStatus) resultStatus;
  decltype(&PQntuples) ntuples;
  decltype(&PQnfields) nfields;
  decltype(&PQgetisnull) getisnull;
  decltype(&PQgetvalue) getvalue;
  decltype(&PQclear) clear;
};

template <typename Function>
void resolve(void* library, const char* name, Function& function) {
  function = reinterpret_cast<Function>(::dlsym(library, name));
  if (!function)
    throw CommandError(ErrorCode::DbConnect, std::string("libpq.so.5 has no function ") + name,
                       "install the libpq5 package of PostgreSQL 10 or later");
}

const LibPq& libpq() {
  static const LibPq loaded = [] {
    void* library = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!library)
      throw CommandError(ErrorCode::DbConnect, std::string("unable to load libpq: ") + ::dlerror(),
                         "install the libpq5 package");
    LibPq api{};
    resolve(library, "PQconnectdbParams", api.connectdbParams);
    resolve(library, "PQstatus", api.status);
    resolve(library, "PQerrorMessage", api.errorMessage);
    resolve(library, "PQfinish", api.finish);
    resolve(library, "PQexec", api.exec);
    resolve(library, "PQresultStatus", api.resultStatus);
    resolve(library, "PQntuples", api.ntuples);
    resolve(library, "PQnfields", api.nfields);
    resolve(library, "PQgetisnull", api.getisnull);
    resolve(library, "PQgetvalue", api.getvalue);
    resolve(library, "PQclear", api.clear);
    return api;
  }();
  return loaded;
}

struct ResultClear {
  void operator()(PGresult* result) const { libpq().clear(result); }
};

std::string trimmed(const char* text) {
  std::string message = text ? text : "";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

}  // namespace

void PgConnection::Closer::operator()(pg_conn* connection) const { libpq().finish(connection); }

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
  std::unique_ptr<pg_conn, Closer> connection(libpq().connectdbParams(keys.data(), values.data(), 0));
  if (!connection || libpq().status(connection.get()) != CONNECTION_OK)
    throw CommandError(ErrorCode::DbConnect,
                       "unable to connect to " + description + ": " +
                           trimmed(connection ? libpq().errorMessage(connection.get()) : "out of memory"),
                       "is the cluster running? check pg1-socket-path, pg1-port, pg1-user and pg1-database");
  return PgConnection(std::move(connection), std::move(description));
}

std::vector<std::vector<std::optional<std::string>>> PgConnection::query(const std::string& sql) {
  std::unique_ptr<PGresult, ResultClear> result(libpq().exec(connection_.get(), sql.c_str()));
  if (!result || libpq().resultStatus(result.get()) != PGRES_TUPLES_OK)
    throw CommandError(ErrorCode::DbQuery, "unable to execute query '" + sql + "' on " + description_ + ": " +
                                               trimmed(libpq().errorMessage(connection_.get())));
  std::vector<std::vector<std::optional<std::string>>> rows(static_cast<std::size_t>(libpq().ntuples(result.get())));
  for (std::size_t row = 0; row < rows.size(); ++row)
    for (int column = 0; column < libpq().nfields(result.get()); ++column)
      rows[row].push_back(libpq().getisnull(result.get(), static_cast<int>(row), column)
                              ? std::nullopt
                              : std::optional<std::string>(libpq().getvalue(result.get(), static_cast<int>(row), column)));
  return rows;
}

std::vector<std::optional<std::string>> PgConnection::queryRow(const std::string& sql) {
  std::vector<std::vector<std::optional<std::string>>> rows = query(sql);
  if (rows.size() != 1)
    throw CommandError(ErrorCode::DbQuery, "query '" + sql + "' returned " + std::to_string(rows.size()) +
                                               " rows, expected one");
  return std::move(rows.front());
}

}  // namespace pgbr::backup
