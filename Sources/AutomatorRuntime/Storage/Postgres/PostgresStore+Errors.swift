import Foundation
import NIOCore
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
        // SwiftNIO describes a refused connection as "connection reset (error set): Connection
        // refused (errno: 111)": the system's words are the ones to show.
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        if let error = error as? ChannelError, case .connectTimeout(let limit) = error {
            return "no answer within \(limit.nanoseconds / 1_000_000_000) s"
        }
        if let error = error as? NIOConnectionError {
            guard let failure = error.connectionErrors.first else { return "\(error.host) could not be resolved" }
            let target = failure.target
            return (target.ipAddress.map { "\($0):\(target.port ?? 0): " } ?? "") + reason(failure.error)
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? "")
        }
        return error.underlying.map(reason) ?? "\(error.code)"
    }

    /// Whether `error` may mean that the database went away: no connection, a connection lost, the
    /// server shutting down or starting (SQLSTATE classes 08 and 57P); not a statement it refused,
    /// a value that could not be read, nor the caller's own cancellation.
    static func mayBeAway(_ error: any Error) -> Bool {
        switch error {
        case let error as PostgresTransactionError:
            let inner = error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError
            return inner.map(mayBeAway) ?? false
        case let error as PSQLError where error.code == .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("08") || state.hasPrefix("57P")
        case is StoreError, is PostgresDecodingError, is RefusedWithoutSavepoint, is CancellationError: return false
        default: return true
        }
    }
}
