import ArgumentParser
import AutomatorRuntime

/// A word where a subcommand belongs that names none: `automator incidnet list`, `automator
/// incident lst`. The parser says only "2 unexpected arguments: 'incidnet', 'list'"; this says
/// which word is wrong, and the command it likely meant, as the chat bot does for `!incdent`.
struct MistypedCommand {
    /// The commands before the word: `["automator", "incident"]`.
    let path: [String]
    let typed: String
    /// The subcommands there.
    let commands: [String]

    /// The first of `arguments` that stands where `root` or one of its subcommands expects a
    /// subcommand and names none, or nil when there is none (the mistake is elsewhere: an option,
    /// an argument). Options before it end the search: they are the parser's to judge.
    static func find(in arguments: [String], root: any ParsableCommand.Type) -> MistypedCommand? {
        var command = root
        var path = [root._commandName]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !argument.hasPrefix("-"), !(command == root && argument == "help") else { return nil }
            guard let next = subcommands.first(where: { $0._commandName == argument }) else {
                return MistypedCommand(path: path, typed: argument, commands: subcommands.map { $0._commandName })
            }
            command = next
            path.append(argument)
        }
        return nil
    }

    /// `automator has no command 'incidnet': did you mean 'incident'?`, or else its commands.
    var message: String {
        let command = path.joined(separator: " ")
        if let meant = Typo.meant(by: typed, among: commands) {
            return "\(command) has no command '\(typed)': did you mean '\(meant)'?"
        }
        return "\(command) has no command '\(typed)': its commands are \(commands.joined(separator: ", "))"
    }
}
