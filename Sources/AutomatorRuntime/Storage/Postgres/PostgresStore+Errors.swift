import PostgresNIO

extension PostgresStore {
    /// The `StoreError` for what postgres-nio or the server said.
    static func storeError(_ error: any Error, location: PostgresLocation) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PostgresTransactionError {
            return storeError(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
                ?? error, location: location)
        }
        if let error = error as? PSQLError, error.code == .server {
            return .serverError(location.description, reason: reason(error))
        }
        return .serverUnreachable(location.description, reason: reason(error))
    }

    /// The server's message and SQLSTATE when there is one (postgres-nio's description hides
    /// them, lest a log show bound values), else the error as it describes itself.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        return "\(error.code)" + (error.underlying.map { ": \($0)" } ?? "")
    }
}
