import ArgumentParser

@main
struct Automator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "automator",
        abstract: "Security automation: playbooks in Lua, run safely and fast.",
        discussion: """
            Scripts run in a sandbox: no files, no processes, no network but what the host \
            modules offer, with a memory cap and a time limit per run.

            An incident arrives (the API, a mapped alert, automator incident create), the \
            playbook that matches it runs as a durable run, and people answer the tasks it waits on.

            Start with:
              automator run scripts/playbooks/phishing.lua --incident scripts/examples/incidents/phishing.json
              automator serve --scripts scripts
              automator incident create --json scripts/examples/incidents/malware.json
              automator task list
              automator intel lookup 203.0.113.7
              automator report --since 7d --format html -o week.html
              automator test
              automator check
              automator repl
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, TestCommand.self, CheckCommand.self, ReplCommand.self, ServeCommand.self, RunsCommand.self, IncidentCommand.self,
                      TaskCommand.self, PlaybookCommand.self, IntelCommand.self, ChatCommand.self,
                      JournalCommand.self, EvidenceCommand.self, ActionCommand.self, ReportCommand.self, AuditCommand.self,
                      MigrateCommand.self, StoreCommand.self]
    )
}
