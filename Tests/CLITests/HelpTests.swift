import Foundation
import Testing

@Suite("--help of every command", .timeLimit(.minutes(2)))
struct HelpTests {
    /// The parser wraps prose to the terminal, but an indented line (an example, the API's table)
    /// it cuts at the width, its rest at the margin: `--incident` and its file on two lines, the
    /// second no longer part of the command a person copies. 80 columns is a terminal's, and a pipe's.
    /// A line of exactly 80 is cut too (the parser looks for its newline within the width), so
    /// each line is compared with the help as printed at 80 columns, not counted.
    @Test("Every example and table line of every command's --help fits in 80 columns")
    func fitsEightyColumns() async throws {
        var commands: [[String]] = [[]]
        var index = 0
        var long: [String] = []
        while index < commands.count {
            let command = commands[index]
            index += 1
            let help = try await AutomatorProcess.run(command + ["--help"], environment: ["COLUMNS": "1000"])
            #expect(help.status == 0, "automator \(command.joined(separator: " ")) --help: \(help.stderr)")
            let narrow = try await AutomatorProcess.run(command + ["--help"], environment: ["COLUMNS": "80"])
            let narrowLines = Set(narrow.stdout.components(separatedBy: "\n"))
            let lines = help.stdout.components(separatedBy: "\n")
            for line in lines.prefix(while: { !$0.hasPrefix("USAGE:") }) where line.hasPrefix("  ") && !narrowLines.contains(line) {
                long.append("automator \(command.joined(separator: " ")): \(line)")
            }
            if let start = lines.firstIndex(of: "SUBCOMMANDS:") {
                for line in lines[(start + 1)...].prefix(while: { !$0.isEmpty }) where !line.hasPrefix("   ") {
                    commands.append(command + [String(line.dropFirst(2).prefix { $0 != " " })])
                }
            }
        }
        #expect(commands.count > 40, "the subcommands were not found: \(commands)")
        #expect(long.isEmpty, "lines cut at 80 columns:\n\(long.joined(separator: "\n"))")
    }

    /// The parser called every word from the typo on unexpected (`2 unexpected arguments:
    /// 'incidnet', 'list'`), which hides which one is wrong.
    @Test("A mistyped command is named, with the one it likely meant, or else the commands there")
    func mistypedCommand() async throws {
        let top = try await AutomatorProcess.run(["incidnet", "list", "--status", "new"])
        #expect(top.status == 64, "\(top.stderr)")
        #expect(top.stderr.hasPrefix("error: automator has no command 'incidnet': did you mean 'incident'?\n"), "\(top.stderr)")
        #expect(top.stderr.contains("See 'automator --help'"), "\(top.stderr)")

        let below = try await AutomatorProcess.run(["incident", "lst"])
        #expect(below.status == 64)
        #expect(below.stderr.hasPrefix("error: automator incident has no command 'lst': did you mean 'list'?\n"), "\(below.stderr)")
        #expect(below.stderr.contains("See 'automator incident --help'"), "\(below.stderr)")

        let unknown = try await AutomatorProcess.run(["token", "grant", "alice"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.hasPrefix("error: automator token has no command 'grant': its commands are add, list, rotate, revoke\n"),
                "\(unknown.stderr)")

        // The mistakes after a command are the parser's, as before: an option, a missing argument.
        let option = try await AutomatorProcess.run(["intel", "extract", "--per-lin"])
        #expect(option.status == 64 && option.stderr.contains("Unknown option '--per-lin'. Did you mean '--per-line'?"), "\(option.stderr)")
        let script = try await AutomatorProcess.run(["run"])
        #expect(script.status == 64 && script.stderr.contains("Missing expected argument '<file.lua>'"), "\(script.stderr)")
    }

    /// The parser validates a command, which looks for its data folder, before it looks for the
    /// options it does not know: `incident list --staus open` with no folder said the folder, and
    /// `journal verify --publickey KEY` that KEY is no incident id.
    @Test("A mistyped option is named, with the one it likely meant, before any data folder or value is looked at")
    func mistypedOptionBeforeFolder() async throws {
        let missing = "/nonexistent/automator-data"
        let cases: [(arguments: [String], said: String)] = [
            (["incident", "list", "--data", missing, "--staus", "open"], "Unknown option '--staus'. Did you mean '--status'?"),
            (["task", "list", "--data", missing, "--al"], "Unknown option '--al'. Did you mean '--all'?"),
            (["runs", "list", "--data", missing, "--stats", "failed"], "Unknown option '--stats'. Did you mean '--status'?"),
            (["report", "--data", missing, "--sinc", "7d"], "Unknown option '--sinc'. Did you mean '--since'?"),
            (["journal", "verify", "--data", missing, "--publickey", "MCowBQ"],
             "Unknown option '--publickey'. Did you mean '--public-key'?"),
            (["incident", "list", "--data", missing, "--status", "open", "--limt", "3"],
             "Unknown option '--limt'. Did you mean '--limit'?"),
            (["task", "list", "--data", missing, "-x"], "Unknown option '-x'"),
            (["action", "history", "--data", missing, "--incdent", "INC-1"], "Unknown option '--incdent'. Did you mean '--incident'?"),
            (["token", "list", "--data", missing, "--jsn"], "Unknown option '--jsn'. Did you mean '--json'?"),
        ]
        for (arguments, said) in cases {
            let result = try await AutomatorProcess.run(arguments)
            #expect(result.status == 64 && result.stderr.hasPrefix("error: \(said)\nUsage: automator \(arguments[0]) ")
                    && !result.stderr.contains(missing), "automator \(arguments.joined(separator: " ")): \(result.stderr)")
        }
        // Words after `--` are values, and the commands that pass words on judge them themselves.
        let passed = try await AutomatorProcess.run(["incident", "list", "--data", missing, "--", "--staus"])
        #expect(passed.status == 64 && !passed.stderr.contains("Unknown option"), "\(passed.stderr)")
        // Right options: the folder is the mistake, said as before.
        let folder = try await AutomatorProcess.run(["incident", "list", "--data", missing, "--status", "new"])
        #expect(folder.status == 64 && folder.stderr.hasPrefix("error: there is no data folder \(missing): "), "\(folder.stderr)")
    }
}
