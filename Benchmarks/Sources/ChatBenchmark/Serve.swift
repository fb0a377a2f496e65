import Foundation

/// A real `automator serve` on 127.0.0.1 and a port it picks, its log in a file of the folder
/// (a pipe nobody drains would stop it).
final class Serve {
    let url: String
    let token: String
    /// Its standard error.
    let log: URL
    private let process: Process

    /// Starts `automator serve` on `folder/data` with `folder/automator.yml`; returns once it listens.
    init(automator: String, folder: URL, scripts: String, executors: Int?) async throws {
        log = folder.appendingPathComponent("serve.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let data = folder.appendingPathComponent("data")
        process = Process()
        process.executableURL = URL(fileURLWithPath: automator)
        process.arguments = ["serve", "--data", data.path, "--scripts", scripts, "--http", "127.0.0.1:0",
                             "--config", folder.appendingPathComponent("automator.yml").path]
            + (executors.map { ["--executors", String($0)] } ?? [])
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
                throw BenchmarkError("automator serve did not start:\n\(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The process's CPU time so far (user and system), from /proc.
    var cpuSeconds: Double {
        guard let text = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let end = text.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// SIGTERM, then waits for the graceful stop.
    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
