import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a finished child process left: its exit status, output and wall time.
struct ProcessResult {
    /// The exit code, or 128 + the signal number if a signal ended it.
    var status: Int32
    /// From just before the spawn to just after the child was reaped.
    var wall: Duration
    /// User plus system CPU time of the child, which a busy machine disturbs less than `wall`.
    var cpu: Double
    var standardOutput: String
    var standardError: String
}

/// Runs commands with `posix_spawnp` and `wait4`, so that a wall time measures little more
/// than the child itself: no shell, no pipes to drain, no run loop.
struct Subprocess {
    /// A folder for the children's output files.
    let scratch: URL

    func run(_ arguments: [String]) throws -> ProcessResult {
        let output = scratch.appendingPathComponent("stdout").path
        let errors = scratch.appendingPathComponent("stderr").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errors, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }

        var pid: pid_t = 0
        var status: Int32 = 0
        var usage = rusage()
        let clock = ContinuousClock()
        let start = clock.now
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else {
            throw BenchmarkError("could not start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        while wait4(pid, &status, 0, &usage) == -1 {
            guard errno == EINTR else { throw BenchmarkError("wait4 failed for \(arguments[0])") }
        }
        let wall = clock.now - start

        let signal = status & 0x7f
        return ProcessResult(
            status: signal == 0 ? (status >> 8) & 0xff : 128 + signal,
            wall: wall,
            cpu: Self.seconds(usage.ru_utime) + Self.seconds(usage.ru_stime),
            standardOutput: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        )
    }

    private static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) * 1e-6 }

    /// Runs the command and fails unless it exits with `expectedStatus`.
    func check(_ arguments: [String], expectedStatus: Int32 = 0) throws -> ProcessResult {
        let result = try run(arguments)
        guard result.status == expectedStatus else {
            throw BenchmarkError(
                "\(arguments.joined(separator: " ")) exited with \(result.status), expected \(expectedStatus):\n"
                    + result.standardError)
        }
        return result
    }
}
