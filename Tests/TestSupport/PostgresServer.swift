import Foundation
import Glibc
import Synchronization

/// A real PostgreSQL server on loopback, one per test process, started on first use: a cluster
/// made by `initdb` in a temporary folder (trust authentication, user `automator`, its Unix
/// socket in the same folder), each test in a database of its own (`makeDatabase()`).
///
/// The server runs under a small Python watchdog that stops it (immediate shutdown) and removes
/// its folder once the test process is gone, however it ended. PostgreSQL refuses to run as
/// root: as root, the server runs as the `postgres` user (Debian's package makes it).
///
/// Needs Debian's `postgresql` (`make test` installs it).
public final class PostgresServer: Sendable {
    public let port: Int
    /// The folder of the server's socket (and of its data).
    public let folder: String
    private let databases = Atomic<Int>(0)
    private let process: Process

    /// The server of this test process.
    public static func shared() async throws -> PostgresServer { try await instance.value }
    private static let instance = Task { try PostgresServer() }

    private init() throws {
        let binaries = try Self.binaries()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("automator-postgres-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if geteuid() == 0 { try Self.run(["/bin/chown", "postgres:", folder]) }
        port = try FreePort.onLoopback()
        try Self.run(Self.asServerUser + [binaries + "/initdb", "-D", folder + "/data", "-U", "automator", "-A", "trust",
                                          "-E", "UTF8", "--locale=C", "--no-sync"])
        let server = Self.asServerUser + [
            binaries + "/postgres", "-D", folder + "/data", "-p", String(port), "-k", folder,
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200",
            // Tests check what the store does, not the disk: no flushes.
            "-c", "fsync=off", "-c", "full_page_writes=off",
        ]
        let log = folder + "/server.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.watchdog, String(getpid()), folder] + server
        process.standardOutput = FileHandle(forWritingAtPath: log)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while (try? psql("SELECT 1")) == nil {
            guard process.isRunning, Date() < deadline else {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw PostgresServerError("PostgreSQL did not start (its output below)\n\(output.suffix(3000))")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// A new, empty database; its address for `--store`.
    public func makeDatabase() throws -> String {
        let name = "test_\(databases.add(1, ordering: .relaxed).newValue)"
        try psql("CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// The address of `database` on this server, over TCP without TLS.
    public func url(database: String) -> String {
        "postgres://automator@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Runs `sql` in `database` with psql; returns its output (unaligned, tuples only).
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try Self.run(["/usr/bin/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", folder, "-p", String(port),
                      "-U", "automator", "-d", database, "-c", sql])
    }

    /// `runuser -u postgres --` when running as root, which PostgreSQL refuses.
    private static var asServerUser: [String] { geteuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--"] : [] }

    /// The newest of Debian's `/usr/lib/postgresql/VERSION/bin`, else the folder of `initdb` on the PATH.
    private static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        if let newest = versions.last { return "\(root)/\(newest)/bin" }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(folder)/initdb") {
            return String(folder)
        }
        throw PostgresServerError("PostgreSQL is not installed: apt-get install postgresql (make test installs it)")
    }

    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw PostgresServerError("\(arguments.joined(separator: " ")) failed: \(text)")
        }
        return text
    }

    /// Runs the server; once the test process (its parent) is gone, stops it at once (SIGQUIT to
    /// the postmaster, whose pid is in postmaster.pid also when runuser started it) and removes
    /// the folder.
    private static let watchdog = """
        import os, shutil, signal, subprocess, sys, time
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        parent, folder = int(sys.argv[1]), sys.argv[2]
        server = subprocess.Popen(sys.argv[3:])
        while os.getppid() == parent and server.poll() is None:
            time.sleep(0.2)
        try:
            with open(folder + "/data/postmaster.pid") as f:
                os.kill(int(f.readline()), signal.SIGQUIT)
        except (OSError, ValueError):
            pass
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)
        """
}

public struct PostgresServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
