import ArgumentParser

@main
struct Automator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "automator",
        abstract: "Security automation: playbooks in Lua, run safely and fast.",
        discussion: """
            Scripts run in a sandbox: no files, no processes, no network but what the host \
            modules offer, with a memory cap and a time limit per run.

            Start with:
              automator run scripts/examples/triage.lua
              automator repl
              automator serve --scripts scripts/examples
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, ReplCommand.self, ServeCommand.self, RunsCommand.self]
    )
}
