import ArgumentParser
import Foundation

// Every benchmark reads its options the same way: a `ParsableCommand` whose configuration says
// what it measures, the goal and an example, and whose options carry their defaults. Read through
// `fromCommandLine()`, which exits before anything is measured: 0 after `--help`, 2 (a shell's
// usage error, as `ls` and `grep` use) after a mistake, with `error: …` naming the option.

extension ParsableCommand {
    /// The options on this process's command line, or the process ends: `--help` prints the help
    /// and exits 0; an unknown option, a missing or malformed value, or a value its `validate()`
    /// refuses prints `error: …`, the usage and where the help is, and exits 2.
    public static func fromCommandLine() -> Self {
        do {
            return try parse()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data("""
                error: \(message(for: error))
                Usage: \(usageString())
                See '\(CommandLine.arguments[0]) --help' for what each option does.

                """.utf8))
            Foundation.exit(2)
        }
    }

    /// The `@main` entry of a benchmark that is a command: its options as `fromCommandLine()` reads
    /// them, then its run; an error the run throws ends the process with status 1.
    public static func runFromCommandLine() async {
        var benchmark = fromCommandLine()
        do {
            if var asynchronous = benchmark as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try benchmark.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// For a benchmark's `validate()`: refuses, by its name, the first option whose value is not
/// above zero (an option left out, nil, passes), so that a typo fails at once instead of after
/// minutes of setup or in a division.
public func requirePositive<Number: Numeric & Comparable>(_ options: KeyValuePairs<String, Number?>) throws {
    for case let (name, value?) in options where value <= 0 {
        throw ValidationError("\(name) must be above 0, not \(value)")
    }
}
