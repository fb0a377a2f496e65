import Foundation
import Glibc
import Synchronization

/// A real PostgreSQL server on loopback, one per test process, started on first use: a cluster
/// made by `initdb` in a temporary folder (trust authentication, user `automator`, its Unix
/// socket in the same folder), each test in a database of its own (`makeDatabase()`).
///
/// The server runs under a small Python watchdog that stops it (immediate shutdown) and removes
/// its folder once the test process is gone, however it ended, or the server of its own a test
/// made (`own()`) is released. PostgreSQL refuses to run as root: as root, the server runs as the
/// `postgres` user (Debian's package makes it).
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

    /// A server of the test's own, which it may stop and start again (`stop()`, `start()`); it
    /// ends when released.
    public static func own() throws -> PostgresServer { try PostgresServer() }

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
        try waitUntilAnswering()
    }

    deinit {
        kill(process.processIdentifier, SIGTERM)
    }

    /// Stops the server as `pg_ctl stop -m fast` does (its clients' sessions end); returns once
    /// it no longer answers.
    public func stop() throws {
        kill(process.processIdentifier, SIGUSR1)
        let deadline = Date().addingTimeInterval(60)
        while (try? psql("SELECT 1")) != nil {
            guard Date() < deadline else { throw PostgresServerError("PostgreSQL did not stop within 60 s") }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Starts the server again after `stop()`, with the same data; returns once it answers.
    public func start() throws {
        kill(process.processIdentifier, SIGUSR2)
        try waitUntilAnswering()
    }

    /// Stops the server's processes (SIGSTOP) without closing anything: a database that no longer
    /// answers, as one on a host powered off or behind a cut network looks. `thaw()` before the
    /// server is released, or it cannot be ended.
    public func freeze() { signalProcesses(SIGSTOP) }

    /// Lets a frozen server go on (SIGCONT).
    public func thaw() { signalProcesses(SIGCONT) }

    /// `signal` to the postmaster, then to its children (the sessions and the background workers).
    private func signalProcesses(_ signal: Int32) {
        guard let text = try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8),
              let postmaster = text.split(separator: "\n").first.flatMap({ Int32($0) })
        else { return }
        kill(postmaster, signal)
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            // /proc/PID/stat: "PID (NAME) STATE PPID ...", where NAME may hold spaces and parentheses.
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let end = stat.lastIndex(of: ")"),
                  stat[stat.index(after: end)...].split(separator: " ").dropFirst().first == "\(postmaster)"
            else { continue }
            kill(pid, signal)
        }
    }

    private func waitUntilAnswering() throws {
        let deadline = Date().addingTimeInterval(60)
        while (try? psql("SELECT 1")) == nil {
            guard process.isRunning, Date() < deadline else {
                let output = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
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

    /// Runs the server; once the test process (its parent) is gone, or on SIGTERM, stops it at once
    /// (SIGQUIT to the postmaster, whose pid is in postmaster.pid also when runuser started it) and
    /// removes the folder. SIGUSR1 stops the server (SIGINT, a fast shutdown), SIGUSR2 starts it
    /// again; a server that ends otherwise ends the watchdog too. SIGHUP is ignored.
    private static let watchdog = """
        import os, shutil, signal, subprocess, sys, time
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        parent, folder = int(sys.argv[1]), sys.argv[2]
        asked = {"up": True, "end": False}
        signal.signal(signal.SIGUSR1, lambda *_: asked.update(up=False))
        signal.signal(signal.SIGUSR2, lambda *_: asked.update(up=True))
        signal.signal(signal.SIGTERM, lambda *_: asked.update(end=True))
        # The kernel hangs up a process group left without a parent while some of it is stopped (freeze()).
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        def postmaster(sig):
            try:
                with open(folder + "/data/postmaster.pid") as f:
                    os.kill(int(f.readline()), sig)
            except (OSError, ValueError):
                pass
        server, stopped = subprocess.Popen(sys.argv[3:]), False
        while os.getppid() == parent and not asked["end"]:
            if not asked["up"] and not stopped:
                postmaster(signal.SIGINT)
                server.wait()
                stopped = True
            elif asked["up"] and stopped:
                server, stopped = subprocess.Popen(sys.argv[3:]), False
            elif not stopped and server.poll() is not None:
                break
            time.sleep(0.1)
        postmaster(signal.SIGQUIT)
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)
        """
}

public struct PostgresServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
