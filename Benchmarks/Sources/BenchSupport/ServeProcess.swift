public import Foundation
import Glibc

/// A real `automator serve` on 127.0.0.1 and a port it picks, its data in `FOLDER/data`, its
/// log in `FOLDER/serve.log` (a pipe nobody drains would stop it).
public final class ServeProcess {
    public let url: String
    public let token: String
    /// Its standard error.
    public let log: URL
    private let process: Process

    /// Starts `automator serve --data FOLDER/data --http 127.0.0.1:0 ARGUMENTS`; returns once it listens.
    public init(automator: String, folder: URL, arguments: [String]) async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        log = folder.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let data = folder.appendingPathComponent("data")
        process = Process()
        process.executableURL = URL(fileURLWithPath: automator)
        process.arguments = ["serve", "--data", data.path, "--http", "127.0.0.1:0"] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()

        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let match = text.firstMatch(of: /listening on (http:\/\/127\.0\.0\.1:\d+)/) {
                url = String(match.output.1)
                token = try String(contentsOf: data.appendingPathComponent("api-token"), encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                return
            }
            guard process.isRunning, ContinuousClock.now < deadline else {
                if process.isRunning { process.terminate() }
                throw DidNotStart(log: text)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public struct DidNotStart: Error, CustomStringConvertible {
        public var log: String
        public var description: String { "automator serve did not start:\n\(log)" }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// The process's CPU time so far (user and system), from /proc.
    public var cpuSeconds: Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = text.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// SIGTERM, then waits for the graceful stop.
    public func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// SIGKILL: a crash, as far as the server can tell.
    public func kill() {
        Glibc.kill(pid, SIGKILL)
        process.waitUntilExit()
    }
}
