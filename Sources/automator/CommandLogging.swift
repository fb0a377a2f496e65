import ArgumentParser
import AutomatorRuntime
import Foundation
import Logging

/// How commands talk to the person at the terminal: logs and errors on standard error.
enum CommandLogging {
    static func logger(verbose: Bool) -> Logger {
        logger(level: verbose ? .debug : .info, format: .text)
    }

    /// A logger on standard error at `level` and above, written as `format` says.
    static func logger(level: Logger.Level, format: LogFormat) -> Logger {
        var logger = Logger(label: "automator") { label in UTCLogHandler(label: label, format: format) }
        logger.logLevel = level
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
        FileHandle.standardError.write(Data(problems(error).map { "error: \($0)\n" }.joined().utf8))
    }

    /// What `report` says of `error`, a line each: one, or each bad value of a configuration file.
    static func problems(_ error: any Error) -> [String] {
        (error as? ConfigurationError)?.problems.map(\.description) ?? ["\(error)"]
    }

    /// Prints `note: ...` on standard error: something the person should know, not a failure.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("note: \(message)\n".utf8))
    }
}
