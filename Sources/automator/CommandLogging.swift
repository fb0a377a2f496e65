import ArgumentParser
import AutomatorRuntime
import Foundation
import Logging

/// How commands talk to the person at the terminal: logs and errors on standard error.
enum CommandLogging {
    static func logger(verbose: Bool) -> Logger {
        var logger = Logger(label: "automator") { label in UTCLogHandler(label: label) }
        logger.logLevel = verbose ? .debug : .info
        return logger
    }

    /// Runs `body`; a failure prints `error: ...` and exits 1.
    static func exitingOnFailure<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            report(error)
            throw ExitCode.failure
        }
    }

    /// Prints `error: ...` (and a Lua traceback if there is one) on standard error; a line each
    /// for the bad values of a configuration file.
    static func report(_ error: any Error) {
        let lines = (error as? ConfigurationError)?.problems.map(\.description) ?? ["\(error)"]
        FileHandle.standardError.write(Data(lines.map { "error: \($0)\n" }.joined().utf8))
    }

    /// Prints `note: ...` on standard error: something the person should know, not a failure.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }
}
