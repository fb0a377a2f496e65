import ArgumentParser
import AutomatorRuntime

/// The limits every command that runs Lua accepts.
struct LimitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Stop a run after this many seconds of wall-clock time.", valueName: "seconds"))
    var timeout: Double = 30

    @Option(name: .long, help: ArgumentHelp("Cap a run's Lua memory at this many MiB.", valueName: "MiB"))
    var memory: Int = 256

    func validate() throws {
        guard timeout > 0, timeout.isFinite else { throw ValidationError("--timeout must be a positive number of seconds, e.g. --timeout 5") }
        guard memory > 0, memory <= 1 << 20 else { throw ValidationError("--memory must be between 1 and 1048576 MiB, e.g. --memory 64") }
    }

    var limits: Limits {
        Limits(memory: memory << 20, timeout: .milliseconds(Int64(timeout * 1000)))
    }
}
