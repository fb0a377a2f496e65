import Foundation
import Testing
import TestSupport

/// `tools/test-watchdog.py`, which `make test` runs the tests under, on a stand-in for `swift test`:
/// a shell script that writes Swift Testing's event stream (version 0, the lines as the real one
/// writes them) to the path the watchdog adds to its arguments, then does what a test would.
@Suite("The test watchdog: a test that runs far too long is named, its stacks printed, the run stopped",
       .timeLimit(.minutes(1)))
struct TestWatchdogTests {
    static let watchdog = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("tools/test-watchdog.py").path

    static let test = #"{"kind":"test","payload":{"displayName":"Hangs on a lock","id":"FakeTests.Locks\/hangs()\/Locks.swift:7:6","isParameterized":false,"kind":"function","name":"hangs()","sourceLocation":{"_filePath":"\/src\/Tests\/FakeTests\/Locks.swift","column":6,"fileID":"FakeTests\/Locks.swift","line":7}},"version":0}"#
    static let suite = #"{"kind":"test","payload":{"displayName":"Locks","id":"FakeTests.Locks","kind":"suite","name":"Locks","sourceLocation":{"_filePath":"\/src\/Tests\/FakeTests\/Locks.swift","column":2,"fileID":"FakeTests\/Locks.swift","line":4}},"version":0}"#
    static func event(_ kind: String, _ id: String = "FakeTests.Locks/hangs()/Locks.swift:7:6") -> String {
        #"{"kind":"event","payload":{"instant":{"absolute":1.0,"since1970":1796162059.18},"kind":"\#(kind)","messages":[],"testID":"\#(id.replacingOccurrences(of: "/", with: "\\/"))"},"version":0}"#
    }

    /// Runs the watchdog with `limit` over a stand-in whose event stream gets `events`, after
    /// which the stand-in runs `then` (shell).
    static func run(limit: String, events: [String], then: String, in folder: TemporaryFolder) async throws
        -> AutomatorProcess.Result
    {
        try await AutomatorProcess.collect(try watchdog(limit: limit, events: events, then: then, in: folder), input: nil)
    }

    /// The watchdog's process, as `run` runs it, not started.
    static func watchdog(limit: String, events: [String], then: String, in folder: TemporaryFolder) throws -> Process {
        let lines = events.map { "printf '%s\\n' '\($0)' >&3" }.joined(separator: "\n")
        let standIn = try folder.write("swift-test", """
            #!/bin/sh
            while [ "$1" != --event-stream-output-path ]; do shift; done
            exec 3>"$2"
            \(lines)
            \(then)
            """)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: standIn)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", watchdog, "--limit", limit, "--", standIn]
        process.currentDirectoryURL = folder.url
        return process
    }

    /// The pid the stand-in's `sleep` wrote, once it has.
    static func sleepingPID(in folder: TemporaryFolder) -> Int32? {
        (try? String(contentsOf: folder.url.appendingPathComponent("sleeping.pid"), encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Whether `pid` still runs: gone, or a zombie nobody has reaped yet, is not running.
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !stat.split(separator: ")").last!.trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    static var gdbInstalled: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
            .contains { FileManager.default.isExecutableFile(atPath: "\($0)/gdb") }
    }

    @Test("A test past the limit is named with its file and line, the test process's stacks printed, everything it started killed, and the run exits 124")
    func hungTest() async throws {
        let folder = try TemporaryFolder()
        // The suite runs on: only tests are timed, a suite lasts as long as its tests.
        let result = try await Self.run(limit: "0.5", events: [Self.suite, Self.test, Self.event("testStarted", "FakeTests.Locks"),
                                                             Self.event("testStarted")],
                                        then: "sleep 600 & echo $! > sleeping.pid; wait", in: folder)
        #expect(result.status == 124, "\(result.stderr)")
        #expect(result.stderr.contains("""
            test-watchdog: 1 test(s) ran for more than 0.5 s, longer than any test should:
            test-watchdog:   FakeTests.Locks/hangs()/Locks.swift:7:6 "Hangs on a lock" at Tests/FakeTests/Locks.swift:7, started
            """), "\(result.stderr)")
        #expect(!result.stderr.contains("FakeTests.Locks \""), "the suite is not named as a test: \(result.stderr)")
        if Self.gdbInstalled {
            // The shell and its `sleep` both hold the stream: both are test processes to gdb.
            #expect(result.stderr.contains("test-watchdog: stacks of process "), "\(result.stderr)")
            #expect(result.stderr.contains("#0 "), "a frame of gdb's backtrace: \(result.stderr)")
        } else {
            #expect(result.stderr.contains("gdb is not installed: no stacks"), "\(result.stderr)")
        }
        #expect(result.stderr.hasSuffix("test-watchdog: the tests were stopped.\n"), "\(result.stderr)")
        let sleeping = try #require(Self.sleepingPID(in: folder))
        #expect(!Self.isRunning(sleeping), "the stand-in's child was killed with it")
    }

    @Test("SIGTERM to the watchdog (CI cancelling the job) stops the tests, which run in a session of their own")
    func terminated() async throws {
        let folder = try TemporaryFolder()
        let process = try Self.watchdog(limit: "600", events: [Self.test, Self.event("testStarted")],
                                        then: "sleep 600 & echo $! > sleeping.pid; wait", in: folder)
        async let result = AutomatorProcess.collect(process, input: nil)
        try #require(try await eventually { Self.sleepingPID(in: folder) != nil })
        process.terminate()
        #expect(try await result.status == 128 + SIGTERM)
        #expect(!Self.isRunning(try #require(Self.sleepingPID(in: folder))), "the stand-in's child was killed with it")
    }

    @Test("A run in which no test starts or ends for the limit is stopped, naming the last test that did")
    func silentRun() async throws {
        let folder = try TemporaryFolder()
        let result = try await Self.run(limit: "0.5", events: [Self.test, Self.event("testStarted"), Self.event("testEnded")],
                                        then: "sleep 600", in: folder)
        #expect(result.status == 124, "\(result.stderr)")
        #expect(result.stderr.contains("""
            test-watchdog: no test started or ended for 0.5 s (the last started or ended: \
            FakeTests.Locks/hangs()/Locks.swift:7:6 "Hangs on a lock" at Tests/FakeTests/Locks.swift:7).
            """), "\(result.stderr)")
    }

    @Test("A test process that dies under a test (a crash) is followed by the test's name, the last lines CI shows")
    func crashedTest() async throws {
        let folder = try TemporaryFolder()
        let result = try await Self.run(limit: "60", events: [Self.suite, Self.test, Self.event("testStarted", "FakeTests.Locks"),
                                                            Self.event("testStarted")],
                                        then: "echo 'Fatal error: Index out of range' >&2; exit 1", in: folder)
        #expect(result.status == 1, "the command's own status: \(result.stderr)")
        #expect(result.stderr.hasSuffix("""
            Fatal error: Index out of range
            test-watchdog: the tests ended (status 1) while 1 test(s) ran:
            test-watchdog:   FakeTests.Locks/hangs()/Locks.swift:7:6 "Hangs on a lock" at Tests/FakeTests/Locks.swift:7

            """), "\(result.stderr)")
    }

    @Test("Tests that end within the limit: the watchdog says nothing and exits with the command's status")
    func testsThatEnd() async throws {
        let folder = try TemporaryFolder()
        for status in [0, 3] {
            let result = try await Self.run(limit: "60", events: [Self.test, Self.event("testStarted"), Self.event("testEnded")],
                                            then: "echo output; exit \(status)", in: folder)
            #expect(result.status == status)
            #expect(result.stdout == "output\n", "the tests' output is the command's own")
            #expect(!result.stderr.contains("test-watchdog"), "\(result.stderr)")
        }
    }
}
