import ArgumentParser
import AutomatorRuntime

/// The limits every command that runs Lua accepts.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Stop a run after this many seconds of wall-clock time "
        + "(serve: of computing between two waits).", valueName: "seconds"))
    var timeout: Double = 30

    @Option(name: .long, help: ArgumentHelp("Cap each run's Lua memory at this many MiB (serve: the runs of "
        + "one executor hold 4 times that together, at least 1 GiB).", valueName: "MiB"))
    var memory = 256

    /// A week: longer is a mistake, and far longer (1e10 s) overflows the deadline's nanoseconds.
    static let longestTimeout = 7 * 86400.0

    func validate() throws {
        guard timeout > 0, timeout <= Self.longestTimeout else {
            throw ValidationError("--timeout must be a number of seconds above 0 and at most \(Int(Self.longestTimeout)) "
                + "(a week), e.g. --timeout 5")
        }
        if memory <= 0 || memory > 1 << 20 {
            throw ValidationError("--memory must be between 1 and 1048576 MiB, e.g. --memory 64")
        }
    }

    /// The limits of each run.
    var limits: Limits { Limits(memory: memory << 20, timeout: .milliseconds(Int64(timeout * 1000))) }
}
