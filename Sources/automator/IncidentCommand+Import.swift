import ArgumentParser
import AutomatorRuntime
import Foundation

extension IncidentCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import closed incidents from another tool, so that reports cover the months before automator.",
            discussion: """
                One JSON object a line (JSON Lines): an incident as incident create --json takes \
                it, with source and source_ref (the other tool's name and its id for the \
                incident), created_at, closed_at and close_reason, and responded_at when the \
                other tool says when a person first acted. Times are RFC 3339 (2026-03-02T09:14:00Z).

                Nothing runs on an imported incident: no playbook, no SLA timer, no notification. \
                It gets the next INC number; its SLA is due by sla.lua from its created_at, so \
                reports count it met or breached by its own times. Its journal starts with an \
                imported entry (who, from which file, when), then the other tool's first response \
                and close at their times. Only closed incidents are taken: open an open case with \
                incident create, so that its playbook and SLA work on it.

                An incident whose source and source_ref are there already (imported before, or \
                by an import running at the same time) is left, so importing a file again adds \
                only what is new. A bad line is refused with its number and the rest goes on; \
                --dry-run checks the whole file and writes nothing. On a terminal, a line every \
                few seconds says where it is.

                Exit status: 0 when every line was imported or there already; 1 when a line was \
                refused (the others are imported) or the import failed; 64 for a usage error.

                Examples:
                  automator incident import thehive-2026.jsonl --dry-run
                  automator incident import thehive-2026.jsonl
                  jq -c '.[] | {title: .name, type: .category, severity: .sev,
                      source: "xsoar", source_ref: (.id | tostring), created_at: .created,
                      closed_at: .closed, close_reason: .closeReason}' xsoar.json |
                      automator incident import -
                """
        )

        @OptionGroup var options: IncidentOptions

        @Argument(help: ArgumentHelp("The JSON Lines file (- for standard input).", valueName: "file"))
        var file: String

        @Flag(help: "Check every line and say what would be imported; write nothing.")
        var dryRun = false

        @Flag(help: "Print the API's JSON: {\"dry_run\", \"lines\", \"new\", \"already\", \"refused\", \"refusals\"}.")
        var json = false

        func validate() throws {
            guard file == "-" || FileManager.default.isReadableFile(atPath: file) else {
                throw ValidationError("cannot read \(file): check that it exists and its permissions")
            }
        }

        func run() async throws {
            let name = file == "-" ? "standard input" : file
            let summary = try await IncidentBackend.perform(options) { backend throws(CommandFailure) in
                try await backend.importIncidents(try FileLines(file), file: name, dryRun: dryRun)
            }
            if json { print(summary.json) } else { printVisible(summary.text) }
            if summary.refused > 0 { throw ExitCode.failure }
        }
    }
}
