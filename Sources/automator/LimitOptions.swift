import ArgumentParser
import AutomatorRuntime

/// The limits every command that runs Lua accepts.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Stop a run after this many seconds of wall-clock time "
        + "(serve: of computing between two waits).", valueName: "seconds"))
    var timeout: Double = 30

    @Option(name: .long, help: ArgumentHelp("Cap a run's Lua memory at this many MiB (default 256; serve: "
        + "each executor's, shared by its runs, default 1024).", valueName: "MiB"))
    var memory: Int?

    /// A week: longer is a mistake, and far longer (1e10 s) overflows the deadline's nanoseconds.
    static let longestTimeout = 7 * 86400.0

    func validate() throws {
        guard timeout > 0, timeout <= Self.longestTimeout else {
            throw ValidationError("--timeout must be a number of seconds above 0 and at most \(Int(Self.longestTimeout)) "
                + "(a week), e.g. --timeout 5")
        }
        if let memory, memory <= 0 || memory > 1 << 20 {
            throw ValidationError("--memory must be between 1 and 1048576 MiB, e.g. --memory 64")
        }
    }

    /// The limits of one run (`run`, `repl`).
    var limits: Limits { limits(defaultMemory: 256) }

    /// The limits of an executor, whose state all its runs share (`serve`): thousands of runs
    /// waiting at once need more than one run does.
    var executorLimits: Limits { limits(defaultMemory: 1024) }

    private func limits(defaultMemory: Int) -> Limits {
        Limits(memory: (memory ?? defaultMemory) << 20, timeout: .milliseconds(Int64(timeout * 1000)))
    }
}
