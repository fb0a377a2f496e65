import ArgumentParser
import AutomatorRuntime
import Foundation

/// An option the command does not have: `automator incident list --staus open`. The parser looks
/// for those only after the command has validated its values, and the commands' validation looks
/// at them: a data folder that is not there, or a value the typo left without its option
/// (`journal verify --publickey KEY` takes KEY for the incident id). It named that, and a person
/// at 3 a.m. went looking for the folder. This looks for the option first, against the names the
/// parser itself describes the command with.
struct MistypedOption {
    /// The commands down to the one given the option: `["automator", "incident", "list"]`.
    let path: [String]
    let command: any ParsableCommand.Type
    /// As typed, without a value after `=`.
    let typed: String
    /// The command's options and flags, as `--status`, `-h`.
    let names: [String]

    /// The first of `arguments` that stands for an option the command they name has not, or nil
    /// when there is none, or when the command takes words it does not know (passes them on),
    /// which the parser judges alone.
    static func find(in arguments: [String], root: any ParsableCommand.Type) -> MistypedOption? {
        var command = root
        var path = [root._commandName]
        var rest = arguments[...]
        while let word = rest.first,
              let next = command.configuration.subcommands.first(where: { $0._commandName == word })
        {
            command = next
            path.append(word)
            rest = rest.dropFirst()
        }
        guard let names = names(of: command) else { return nil }
        // After `--` every word is a value; `-5` is a number.
        for argument in rest.prefix(while: { $0 != "--" }) where argument.hasPrefix("-") && argument.count > 1
            && Double(argument) == nil
        {
            let typed = String(argument.prefix { $0 != "=" })
            // `-xv`: short flags together.
            let given = typed.hasPrefix("--") ? [typed] : typed.dropFirst().map { "-\($0)" }
            if given.contains(where: { !names.contains($0) }) {
                return MistypedOption(path: path, command: command, typed: typed, names: names)
            }
        }
        return nil
    }

    /// `Unknown option '--staus'. Did you mean '--status'?`, as the parser says it.
    var message: String {
        let meant = typed.hasPrefix("--") ? Typo.meant(by: typed, among: names.filter { $0.hasPrefix("--") }) : nil
        return "Unknown option '\(typed)'" + (meant.map { ". Did you mean '\($0)'?" } ?? "")
    }

    /// What the parser describes `command` with (its `--experimental-dump-help`): the names of
    /// its options and flags; nil when one of its arguments takes words it does not know.
    private static func names(of command: any ParsableCommand.Type) -> [String]? {
        struct Described: Decodable {
            struct Command: Decodable { var arguments: [Argument]? }
            struct Argument: Decodable {
                struct Name: Decodable { var kind: String, name: String }
                var names: [Name]?
                var parsingStrategy: String
            }
            var command: Command
        }
        guard let described = try? JSONDecoder().decode(Described.self, from: Data(command._dumpHelp().utf8)) else {
            return nil
        }
        let arguments = described.command.arguments ?? []
        let ordinary: Set = ["default", "scanningForValue", "upToNextOption"]
        guard arguments.allSatisfy({ ordinary.contains($0.parsingStrategy) }) else { return nil }
        return arguments.flatMap { $0.names ?? [] }.map { ($0.kind == "short" ? "-" : "--") + $0.name }
    }
}
