import ArgumentParser
import AutomatorRuntime

/// The limits every command that runs Lua accepts.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Stop a run after this long of wall-clock time (serve: of computing "
        + "between two waits): seconds, or a duration such as 90s or 5m.", valueName: "seconds"))
    var timeout = "30"

    @Option(name: .long, help: ArgumentHelp("Cap each run's Lua memory at this many MiB (serve: the runs of "
        + "one executor hold 4 times that together, at least 1 GiB).", valueName: "MiB"))
    var memory = 256

    /// A week: longer is a mistake, and far longer (1e10 s) overflows the deadline's nanoseconds.
    static let longestTimeout = 7 * 86400.0

    /// The seconds of a `--timeout`: a bare number is seconds, as it always was; a unit may follow.
    static func timeoutSeconds(_ text: String) throws -> Double {
        guard let seconds = DurationText.seconds(text), seconds > 0, seconds <= longestTimeout else {
            throw ValidationError("--timeout takes seconds (5) or a duration (90s, 5m, 1h) above 0 and at most a "
                + "week, not '\(text)'")
        }
        return seconds
    }

    func validate() throws {
        _ = try Self.timeoutSeconds(timeout)
        if memory <= 0 || memory > 1 << 20 {
            throw ValidationError("--memory must be between 1 and 1048576 MiB, e.g. --memory 64")
        }
    }

    /// The limits of each run.
    var limits: Limits {
        Limits(memory: memory << 20, timeout: .milliseconds(Int64(DurationText.seconds(timeout)! * 1000)))
    }
}
