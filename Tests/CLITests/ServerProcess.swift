import Foundation
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A real `automator serve` on 127.0.0.1 and a port the system picks, stopped (SIGKILL) when
/// released if it still runs.
///
/// ```swift
/// let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: folder.url)
/// let answer = try await server.call("POST", "/api/v1/runs", body: #"{"source": "return 1"}"#)
/// server.terminate()
/// #expect(await server.waitForExit() == 0)
/// ```
final class ServerProcess: Sendable {
    /// `http://127.0.0.1:PORT`, as the server logged it.
    let url: String
    /// The API token: the environment's, or the one the server keeps in its data folder.
    let token: String
    let data: URL
    private let process: Process
    private let stderr: PipeCollector
    private let exit: ExitWatcher

    private init(url: String, token: String, data: URL, process: Process, stderr: PipeCollector, exit: ExitWatcher) {
        self.url = url
        self.token = token
        self.data = data
        self.process = process
        self.stderr = stderr
        self.exit = exit
    }

    /// Starts `automator serve --data DATA --scripts SCRIPTS --http 127.0.0.1:0 ARGUMENTS` (one
    /// executor unless `arguments` says otherwise) and returns once it listens: its log says so, or
    /// its lock file has its address (a `--log-level` above info hides the line). `environment` is
    /// added to this process's (see `AutomatorProcess.environment(adding:)`).
    static func start(data: URL, scripts: URL, environment: [String: String] = [:],
                      arguments: [String] = ["--executors", "1"]) async throws -> ServerProcess
    {
        // serve refuses a scripts folder that does not exist; a test that needs none gets it empty.
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = AutomatorProcess.executable
        process.arguments = ["serve", "--data", data.path, "--scripts", scripts.path, "--http", "127.0.0.1:0"]
            + arguments
        process.environment = AutomatorProcess.environment(adding: environment)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let stderr = PipeCollector()
        process.standardError = stderr.pipe
        let exit = ExitWatcher(process)
        try process.run()

        let deadline = Date().addingTimeInterval(60)
        while true {
            let log = stderr.textSoFar
            // The lock file of this process, not of a server killed before on the folder.
            let lock = (try? String(contentsOf: data.appendingPathComponent("serve.lock"), encoding: .utf8))?
                .firstMatch(of: /"pid":(\d+),"url":"(http:\/\/127\.0\.0\.1:\d+)"/)
            if let url = log.firstMatch(of: /listening on (http:\/\/127\.0\.0\.1:\d+)/)?.output.1
                ?? lock.flatMap({ Int32($0.output.1) == process.processIdentifier ? $0.output.2 : nil })
            {
                let token = try environment["AUTOMATOR_API_TOKEN"]
                    ?? String(contentsOf: data.appendingPathComponent("api-token"), encoding: .utf8)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                return ServerProcess(url: String(url), token: token, data: data, process: process, stderr: stderr,
                                     exit: exit)
            }
            guard !exit.hasExited, Date() < deadline else {
                if !exit.hasExited { process.terminate() }
                throw DidNotStart(log: log)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    deinit {
        if !exit.hasExited { send(SIGKILL, to: process.processIdentifier) }
    }

    /// What the server has written on standard error so far.
    var log: String { stderr.textSoFar }

    /// Returns once the log holds `text` `count` times; false after `timeout` seconds.
    func waitForLog(_ text: String, count: Int = 1, timeout: TimeInterval = 15) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while log.components(separatedBy: text).count - 1 < count {
            guard Date() < deadline else { return false }
            try await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    var pid: Int32 { process.processIdentifier }

    /// SIGTERM: a graceful stop.
    func terminate() { send(SIGTERM, to: process.processIdentifier) }

    /// SIGHUP: what logrotate, `systemctl reload` and a closed terminal send.
    func hangUp() { send(SIGHUP, to: process.processIdentifier) }

    /// SIGKILL: a crash, as far as the server can tell.
    func kill() { send(SIGKILL, to: process.processIdentifier) }

    /// SIGSTOP and SIGCONT: a process frozen with its connections open (a stalled VM), and woken.
    func freeze() { send(SIGSTOP, to: process.processIdentifier) }
    func thaw() { send(SIGCONT, to: process.processIdentifier) }

    /// The exit status (for a signal, the signal's number).
    func waitForExit() async -> Int32 { await exit.status() }

    // MARK: The API

    /// An answer from the server.
    struct Answer {
        var status: Int
        var body: String
        var headers: [String: String]

        /// The body as a JSON object (empty if it is not one).
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    /// What a request sends as `Authorization`.
    enum Credentials {
        case serverToken
        case bearer(String)
        case none
    }

    /// `METHOD PATH` with `body`, with the server's token unless `credentials` says otherwise.
    func call(_ method: String, _ path: String, body: String? = nil, credentials: Credentials = .serverToken,
              headers: [String: String] = [:]) async throws -> Answer
    {
        var request = URLRequest(url: try #require(URL(string: url + path)))
        request.httpMethod = method
        request.httpBody = body.map { Data($0.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        switch credentials {
        case .serverToken: request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        case .bearer(let token): request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        case .none: break
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        return Answer(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: headers)
    }

    /// Submits `body` and returns the new run's id.
    func submit(_ body: String) async throws -> String {
        let answer = try await call("POST", "/api/v1/runs", body: body)
        #expect(answer.status == 201, "\(answer.body)")
        return try #require(answer.json["id"] as? String, "\(answer.body)")
    }

    /// Polls the run until its status is `status` (or finished, if nil); returns the run.
    func waitForRun(_ id: String, status expected: String? = nil, timeout: TimeInterval = 30) async throws
        -> [String: Any]
    {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let run = try await call("GET", "/api/v1/runs/\(id)").json
            let status = run["status"] as? String ?? ""
            if let expected, status == expected { return run }
            if expected == nil, !["pending", "running", "waiting"].contains(status) { return run }
            guard Date() < deadline else {
                throw RunDidNotEnd(id: id, status: status)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    struct DidNotStart: Error, CustomStringConvertible {
        var log: String
        var description: String { "automator serve did not start; its log:\n\(log)" }
    }

    struct RunDidNotEnd: Error, CustomStringConvertible {
        var id: String
        var status: String
        var description: String { "run \(id) is still \(status)" }
    }
}

/// `kill(2)`, out of reach of `ServerProcess.kill()`.
private func send(_ signal: Int32, to pid: Int32) {
    kill(pid, signal)
}
