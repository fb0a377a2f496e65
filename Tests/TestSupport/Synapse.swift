import AsyncHTTPClient
import Crypto
import Foundation
import Glibc
import NIOCore
import NIOHTTP1
import Synchronization

/// A real Synapse homeserver on loopback, one per test process, started on first use and shared
/// by the Matrix tests (each makes its own users and rooms). Its server name is `localhost`; it
/// keeps its database (SQLite) and media in a temporary folder, has no federation, and has its
/// rate limits raised far above what tests do.
///
/// Synapse runs under a small Python watchdog that ends it, and removes its folder, as soon as
/// the test process is gone, however it ended: no orphan homeservers.
///
/// Needs `pip install matrix-synapse`.
public final class Synapse: Sendable {
    public static let serverName = "localhost"
    /// `http://127.0.0.1:PORT`.
    public let url: String
    private let folder: String
    private let process: Mutex<Process?>
    private static let sharedSecret = "automator-tests"

    /// The homeserver of this test process.
    public static func shared() async throws -> Synapse { try await instance.value }
    private static let instance = Task { try await Synapse() }

    private init() async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("automator-synapse-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let port = try FreePort.onLoopback()
        url = "http://127.0.0.1:\(port)"
        try Self.configuration(port: port, folder: folder)
            .write(toFile: folder + "/homeserver.yaml", atomically: true, encoding: .utf8)
        try "version: 1\nhandlers: {console: {class: logging.StreamHandler}}\nroot: {level: WARNING, handlers: [console]}\n"
            .write(toFile: folder + "/log.yaml", atomically: true, encoding: .utf8)
        let key = Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString()
            .trimmingCharacters(in: ["="])
        try "ed25519 a_test \(key)\n".write(toFile: folder + "/signing.key", atomically: true, encoding: .utf8)
        process = Mutex(nil)
        try await start()
    }

    /// Stops the homeserver and starts it again on the same port and database, for tests of
    /// clients that must survive a restart. Returns once it answers again.
    public func restart() async throws {
        try await stopped {}
    }

    /// Stops the homeserver while `body` runs, for tests of clients that lose it, and starts it
    /// again after (on the same port and database), whether `body` threw or not: the other tests
    /// share it. Returns once it answers again.
    public func stopped<Result>(while body: () async throws -> Result) async throws -> Result {
        process.withLock { $0?.terminate() }
        while process.withLock({ $0?.isRunning == true }) { try await Task.sleep(for: .milliseconds(50)) }
        let result: Result
        do { result = try await body() } catch {
            try await start()
            throw error
        }
        try await start()
        return result
    }

    private func start() async throws {
        let log = folder + "/synapse.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        try process.withLock { running in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", Self.watchdog, String(getpid()), folder]
            process.standardOutput = FileHandle(forWritingAtPath: log)
            process.standardError = FileHandle(forWritingAtPath: log)
            try process.run()
            running = process
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            guard process.withLock({ $0?.isRunning == true }) else {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                // No watchdog left to remove it.
                try? FileManager.default.removeItem(atPath: folder)
                // 127: env found no python3.
                if output.contains("No module named 'synapse") || process.withLock({ $0?.terminationStatus }) == 127 {
                    throw SynapseError("Synapse is not installed: pip install matrix-synapse")
                }
                throw SynapseError("Synapse stopped while starting (see its output below)\n\(output.suffix(3000))")
            }
            // A short timeout: the client keeps trying a refused connection until the deadline.
            if let (status, _) = try? await fetch("GET", "/_matrix/client/versions", seconds: 1), status == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SynapseError("Synapse did not answer within 120 s; its output is in \(log)")
    }

    /// A user of this homeserver.
    public struct Account: Sendable {
        /// `@alice-1a2b3c:localhost`.
        public let id: String
        public let password: String
        public let accessToken: String
    }

    /// Registers a new user through the shared-secret admin API; the localpart is `name` and a
    /// random suffix, so that every test has users of its own.
    public func register(_ name: String) async throws -> Account {
        let localpart = "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        let password = UUID().uuidString
        let nonce = try await call("GET", "/_synapse/admin/v1/register")["nonce"] as? String ?? ""
        let message = [nonce, localpart, password, "notadmin"].joined(separator: "\0")
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(message.utf8),
                                                         using: SymmetricKey(data: Data(Self.sharedSecret.utf8)))
        let answer = try await call("POST", "/_synapse/admin/v1/register", json: [
            "nonce": nonce, "username": localpart, "password": password, "admin": false,
            "mac": mac.map { String(format: "%02x", $0) }.joined(),
        ])
        guard let id = answer["user_id"] as? String, let token = answer["access_token"] as? String else {
            throw SynapseError("registering \(localpart) answered \(answer)")
        }
        return Account(id: id, password: password, accessToken: token)
    }

    /// A client-server API request, as a plain HTTP call: the JSON object the homeserver answers.
    /// Throws for any status other than 200.
    @discardableResult
    public func call(_ method: String, _ path: String, token: String? = nil, json: [String: any Sendable]? = nil,
                     body: [UInt8]? = nil, contentType: String = "application/json") async throws -> [String: Any]
    {
        let (status, data) = try await fetch(method, path, token: token, json: json, body: body, contentType: contentType)
        guard status == 200 else {
            throw SynapseError("\(method) \(path) answered \(status): \(String(decoding: data, as: UTF8.self))")
        }
        return try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any] ?? [:]
    }

    /// A request's status and body, whatever the status; `timeout` is in seconds.
    public func fetch(_ method: String, _ path: String, token: String? = nil, json: [String: any Sendable]? = nil,
                      body: [UInt8]? = nil, contentType: String = "application/json", seconds timeout: Int64 = 60)
        async throws -> (UInt, [UInt8])
    {
        var request = HTTPClientRequest(url: url + path)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let json {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if json != nil || body != nil { request.headers.add(name: "Content-Type", value: contentType) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        return (response.status.code, Array(buffer: try await response.body.collect(upTo: 64 << 20)))
    }

    /// Runs Synapse, and ends it (removing its folder) once the test process is gone: its
    /// parent then changes. A thread polls for that, since Foundation's `Process` cannot set a
    /// parent-death signal, and such a signal would follow the thread that started the process
    /// rather than the process anyway. The signal mask inherited from the test's thread blocks
    /// SIGTERM: it is cleared, so that `restart` can stop Synapse.
    private static let watchdog = """
        import os, shutil, signal, sys, threading, time
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        parent, folder = int(sys.argv[1]), sys.argv[2]
        def watch():
            while os.getppid() == parent:
                time.sleep(0.2)
            shutil.rmtree(folder, ignore_errors=True)
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
        sys.argv = ["synapse", "--config-path", folder + "/homeserver.yaml"]
        from synapse.app.homeserver import main
        main()
        """

    private static func configuration(port: Int, folder: String) -> String {
        let unlimited = "{per_second: 10000, burst_count: 10000}"
        return """
            server_name: \(serverName)
            public_baseurl: http://127.0.0.1:\(port)/
            listeners:
              - {port: \(port), bind_addresses: ['127.0.0.1'], type: http, tls: false, x_forwarded: false,
                 resources: [{names: [client], compress: false}]}
            database: {name: sqlite3, args: {database: \(folder)/homeserver.db}}
            log_config: \(folder)/log.yaml
            media_store_path: \(folder)/media
            signing_key_path: \(folder)/signing.key
            registration_shared_secret: \(sharedSecret)
            macaroon_secret_key: automator-tests-macaroon
            form_secret: automator-tests-form
            report_stats: false
            enable_metrics: false
            trusted_key_servers: []
            suppress_key_server_warning: true
            federation_domain_whitelist: []
            presence: {enabled: false}
            rc_message: \(unlimited)
            rc_registration: \(unlimited)
            rc_login: {address: \(unlimited), account: \(unlimited), failed_attempts: \(unlimited)}
            rc_joins: {local: \(unlimited), remote: \(unlimited)}
            rc_invites: {per_room: \(unlimited), per_user: \(unlimited), per_issuer: \(unlimited)}
            rc_room_creation: \(unlimited)
            rc_media_create: \(unlimited)
            """
    }
}

public struct SynapseError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
