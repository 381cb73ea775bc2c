#include "storage/pg_status.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pqxx/except"

namespace cdp::storage {
namespace {

absl::Status FromSqlState(const std::string& state) {
  auto msg = [&](absl::string_view what) { return absl::StrCat(what, " (SQLSTATE ", state, ")"); };
  if (state == "23505") return absl::AlreadyExistsError(msg("unique constraint violated"));
  if (state == "40001") return absl::AbortedError(msg("serialization failure"));
  if (state == "40P01") return absl::AbortedError(msg("deadlock detected"));
  if (state == "42501") return absl::PermissionDeniedError(msg("insufficient privilege"));
  if (absl::StartsWith(state, "23")) {
    return absl::FailedPreconditionError(msg("integrity constraint violated"));
  }
  if (absl::StartsWith(state, "08") || state == "57P01" || state == "57P02" ||
      state == "57P03" || state == "53300") {
    return absl::UnavailableError(msg("database unavailable"));
  }
  if (absl::StartsWith(state, "22")) return absl::InvalidArgumentError(msg("invalid data"));
  if (state == "55P03" || state == "57014") {
    return absl::DeadlineExceededError(msg("lock or statement timeout"));
  }
  return absl::InternalError(msg("database error"));
}

}  // namespace

absl::Status StatusFromSqlState(const std::string& sqlstate) {
  return FromSqlState(sqlstate.empty() ? "XX000" : sqlstate);
}

absl::Status ConnectFailed(std::string_view libpq_message) {
  return absl::UnavailableError(
      absl::StrCat("cannot connect to database: ", std::string(libpq_message.substr(0, libpq_message.find('\n')))));
}

absl::Status StatusFromException(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const pqxx::in_doubt_error&) {
    return absl::UnavailableError("database connection lost during commit; outcome unknown");
  } catch (const pqxx::broken_connection&) {
    return absl::UnavailableError("database connection lost or refused");
  } catch (const pqxx::statement_completion_unknown&) {
    return absl::UnavailableError("database statement outcome unknown (SQLSTATE 40003)");
  } catch (const pqxx::serialization_failure&) {
    // libpqxx 6.4 throws the transaction-rollback family without an SQLSTATE.
    return absl::AbortedError("serialization failure (SQLSTATE 40001)");
  } catch (const pqxx::deadlock_detected&) {
    return absl::AbortedError("deadlock detected (SQLSTATE 40P01)");
  } catch (const pqxx::transaction_rollback&) {
    return absl::AbortedError("transaction rolled back by the server (SQLSTATE 40000)");
  } catch (const pqxx::unique_violation&) {
    // libpqxx 6.4 throws these subclasses without their SQLSTATE: name them by type.
    return FromSqlState("23505");
  } catch (const pqxx::insufficient_privilege&) {
    return FromSqlState("42501");
  } catch (const pqxx::integrity_constraint_violation&) {
    return FromSqlState("23000");
  } catch (const pqxx::data_exception&) {
    return FromSqlState("22000");
  } catch (const pqxx::too_many_connections&) {
    return FromSqlState("53300");
  } catch (const pqxx::sql_error& err) {
    return FromSqlState(err.sqlstate().empty() ? "XX000" : err.sqlstate());
  } catch (const pqxx::usage_error&) {
    return absl::InternalError("database client misuse");
  } catch (const pqxx::conversion_error&) {
    return absl::InternalError("database value conversion failed");
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory");
  } catch (const std::exception&) {
    return absl::InternalError("database client error");
  } catch (...) {
    return absl::InternalError("unknown error");
  }
}

}  // namespace cdp::storage
