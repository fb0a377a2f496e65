import Foundation
import Synchronization

/// The built `automator` binary, run as a real process with no terminal.
struct AutomatorProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The binary SwiftPM built beside this test bundle.
    static let executable: URL = {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("automator").path),
            folder.pathComponents.count > 1
        {
            folder.deleteLastPathComponent()
        }
        return folder.appendingPathComponent("automator")
    }()

    /// Runs `automator ARGUMENTS` in `folder` with `input` on standard input; waits at most
    /// `timeout` seconds.
    static func run(_ arguments: [String], in folder: URL? = nil, input: String = "", timeout: TimeInterval = 60) throws
        -> Result
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()

        // Read both pipes while the process runs, so a full pipe cannot block it.
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        DispatchQueue.global().async(group: group) { out = stdout.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { err = stderr.fileHandleForReading.readDataToEndOfFile() }
        if group.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            throw TimedOut(arguments: arguments)
        }
        process.waitUntilExit()
        // Read to their ends: closed now rather than with the `Process`, which keeps them.
        try? stdout.fileHandleForReading.close()
        try? stderr.fileHandleForReading.close()
        return Result(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err, as: UTF8.self))
    }

    struct TimedOut: Error, CustomStringConvertible {
        var arguments: [String]
        var description: String { "automator \(arguments.joined(separator: " ")) did not finish in time" }
    }
}

/// A temporary folder with files in it, removed when the test ends.
final class TemporaryFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("automator-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `contents` to `name` inside the folder; returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: file)
        return file.path
    }
}

extension AutomatorProcess {
    /// Runs `automator ARGUMENTS` in `folder` with `input` (none by default), without blocking a
    /// thread while it runs: for async tests, whose cooperative pool has few threads.
    /// `environment` is added to this process's, without `AUTOMATOR_API_TOKEN` unless it names it.
    static func run(_ arguments: [String], in folder: URL? = nil, input: String? = nil,
                    environment: [String: String] = [:]) async throws -> Result
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = Self.environment(adding: environment)
        return try await collect(process, input: input)
    }

    /// Runs `automator ARGUMENTS` as `run` does, and its peak resident memory in KiB, read from
    /// the kernel's `VmHWM` (the high-water mark) until the process ends.
    static func runMeasuringMemory(_ arguments: [String]) async throws -> (Result, peakKiB: Int) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = Self.environment(adding: [:])
        let peak = Mutex(0)
        let sampler = Task {
            while !Task.isCancelled {
                if process.isRunning,
                   let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
                   let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
                   let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
                {
                    peak.withLock { $0 = max($0, kib) }
                }
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let result = try await collect(process, input: nil)
        sampler.cancel()
        return (result, peak.withLock { $0 })
    }

    /// Runs a Python script (`python3 -c SCRIPT ARGUMENTS`), for the checkers that only Python
    /// has (the STIX 2.1 validator); `make test` installs them.
    static func python(_ script: String, arguments: [String]) async throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        return try await collect(process, input: nil)
    }

    /// Starts `process` with `input` on standard input (none when nil) and waits for its end,
    /// collecting what it writes.
    static func collect(_ process: Process, input: String?) async throws -> Result {
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        let stdout = PipeCollector()
        let stderr = PipeCollector()
        process.standardOutput = stdout.pipe
        process.standardError = stderr.pipe
        let exit = ExitWatcher(process)
        try process.run()
        if let input, let stdin {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let status = await exit.status()
        return Result(status: status, stdout: await stdout.text(), stderr: await stderr.text())
    }

    /// This process's environment with `added`, without `AUTOMATOR_API_TOKEN` and `SUDO_USER`
    /// unless `added` names them, so that a token set where the tests run, or `sudo make test`,
    /// cannot change them.
    static func environment(adding added: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["AUTOMATOR_API_TOKEN"] = nil
        environment["SUDO_USER"] = nil
        environment.merge(added) { _, new in new }
        return environment
    }
}

/// Collects what a process writes to a pipe as it comes. A thread of its own reads as soon as
/// there is something, so that the writer never waits on a full pipe; `textSoFar` reads what the
/// pipe still holds as well, so it has everything written before it was asked: a server's log
/// line written before its answer is there once the answer is, however late that thread runs on
/// a loaded machine. (`FileHandle.readabilityHandler` sometimes misses the end of the output on
/// Linux, and a blocking read on the cooperative pool would hold one of its few threads.) That
/// thread closes the pipe once the writer has: `Process` keeps the `Pipe` it was given, and the
/// suite's process held over a thousand read ends by its end.
final class PipeCollector: Sendable {
    let pipe = Pipe()
    private let descriptor: Int32
    private let state = Mutex<(data: Data, ended: Bool, waiters: [CheckedContinuation<Void, Never>])>(
        (Data(), false, []))

    init() {
        descriptor = pipe.fileHandleForReading.fileDescriptor
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        Thread { [self] in
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            repeat {
                _ = poll(&ready, 1, -1)  // until there is something to read, or the writer has closed the pipe
            } while !readAvailable()
            // Here only: past the end nothing reads the descriptor (`readAvailable` stops at
            // `ended`), and no poll can wait on its number once it is given to another file.
            try? pipe.fileHandleForReading.close()
        }.start()
    }

    /// What has been written so far.
    var textSoFar: String {
        readAvailable()
        return state.withLock { String(decoding: $0.data, as: UTF8.self) }
    }

    /// Reads what the pipe holds now, under the lock so that the chunks keep their order; true
    /// once the writer has closed it.
    @discardableResult
    private func readAvailable() -> Bool {
        let (ended, waiters) = state.withLock { state in
            var buffer = [UInt8](repeating: 0, count: 65536)
            while !state.ended {
                let count = read(descriptor, &buffer, buffer.count)
                if count > 0 {
                    state.data.append(contentsOf: buffer[..<count])
                } else if count == 0 {
                    state.ended = true
                } else if errno != EINTR {
                    break  // EAGAIN: nothing more for now
                }
            }
            defer { state.waiters = [] }
            return (state.ended, state.waiters)
        }
        for waiter in waiters { waiter.resume() }
        return ended
    }

    /// Everything, once the writer has closed the pipe.
    func text() async -> String {
        while true {
            if let text = state.withLock({ $0.ended ? String(decoding: $0.data, as: UTF8.self) : nil }) { return text }
            await changed()
        }
    }

    /// Returns after the next chunk (or the end) arrives.
    private func changed() async {
        await withCheckedContinuation { continuation in
            let waiting = state.withLock { state in
                guard !state.ended else { return false }
                state.waiters.append(continuation)
                return true
            }
            if !waiting { continuation.resume() }
        }
    }
}

/// A process's exit status, awaited.
final class ExitWatcher: Sendable {
    private let state = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    /// Call before `process.run()`.
    init(_ process: Process) {
        process.terminationHandler = { [self] process in
            let status = process.terminationStatus
            let waiters = state.withLock { state in
                state.status = status
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: status) }
        }
    }

    var hasExited: Bool { state.withLock { $0.status != nil } }

    func status() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = state.withLock { state in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}
