import ArgumentParser
import AutomatorRuntime
import Foundation

struct IncidentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "incident",
        abstract: "Open, list, show, change, close, retry and import the incidents of a data folder.",
        discussion: """
            When an automator serve holds the data folder, these commands go through its API: \
            the address is in DATA/serve.lock, the token in $AUTOMATOR_API_TOKEN or \
            DATA/api-token. Otherwise they work on the folder's database directly, with the \
            playbooks of --scripts; a playbook run they start goes on while the command waits \
            for it, and what is left resumes at the next automator serve. \(CaseOptions.withoutWorker)

            Exit status: 0 when done; 1 when it failed (no such incident, an invalid incident, \
            the server refused or could not be reached); 64 for a usage error.

            Examples:
              automator incident create --title "Phishing reported by jdoe" \\
                  --type phishing --severity high
              automator incident list --status new,active
              automator incident show INC-7
              automator incident update INC-7 --owner alice --severity critical
              automator incident close INC-7 \\
                  --reason "false positive: an internal test mail"
              automator incident retry INC-7
              automator incident list --json | jq -r '.incidents[].id'
              automator incident import thehive-2026.jsonl --dry-run
            """,
        subcommands: [Create.self, List.self, Show.self, Update.self, Close.self, Retry.self, Import.self]
    )
}

/// What every `automator incident`, `task` and `playbook` command takes.
struct IncidentOptions: ParsableArguments {
    @OptionGroup var place: CaseOptions
    var data: String { place.data }

    @Option(help: ArgumentHelp("The folder of playbooks/ and sla.lua, used when no automator serve holds the data "
        + "folder (a server has its own).", valueName: "folder"))
    var scripts = "./scripts"

    /// For every command but `incident create`, which makes the folder.
    func requireDataFolder() throws { try place.requireFolder() }
}

/// The incident that `show` and `retry` act on.
struct OneIncident: ParsableArguments {
    @Argument(help: ArgumentHelp("The incident's id, as `automator incident list` shows it.", valueName: "id"))
    var id: String

    /// The id, once `validate` has passed.
    var incident: IncidentID { IncidentID(id)! }

    func validate() throws {
        guard IncidentID(id) != nil else { throw ValidationError("'\(id)' is not an incident id: write it as INC-42") }
    }
}

extension IncidentCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open an incident; the playbook that matches it starts on it.",
            discussion: """
                Give the incident with --title, --type and --severity (and any other option \
                below), or whole with --json: a JSON object as POST /api/v1/incidents takes it, \
                with title, type, severity, owner, labels, fields, details, raw, source and \
                source_ref. An incident with the source and source reference of one opened \
                within a day and still open is linked to it as a duplicate alert instead.

                A --field value is JSON when it reads as JSON (97, true, ["a","b"]), a string \
                otherwise.

                Without a server on the data folder, the command creates the folder if needed, \
                and waits while the playbook's run works (until it waits on a task, at most 10 \
                seconds); the rest of the run resumes at the next automator serve. Only a \
                server sends actions: a playbook started here hears from actions.available \
                that it cannot act, and gives that step to people.

                Examples:
                  automator incident create --title "Phishing reported by jdoe" \\
                      --type phishing --severity high
                  automator incident create --title "Beaconing from web-03" --type malware \\
                      --severity critical --owner tier2 --label edr \\
                      --field host=web-03 --field score=97
                  automator incident create --json scripts/examples/incidents/phishing.json
                  automator incident create --json - --print-json < alert.json | jq -r .id
                """
        )

        @OptionGroup var options: IncidentOptions

        @Option(help: "What happened, in a line.")
        var title: String?

        @Option(help: ArgumentHelp("The kind of incident, which playbooks match on.", valueName: "type"))
        var type: String?

        @Option(help: ArgumentHelp("How bad: \(severities).", valueName: "severity"))
        var severity: String?

        @Option(help: ArgumentHelp("The person or team that owns it.", valueName: "owner"))
        var owner: String?

        @Option(name: .customLong("label"), help: ArgumentHelp("A label; repeat for more.", valueName: "label"))
        var labels: [String] = []

        @Option(name: .customLong("field"), help: ArgumentHelp("A custom field; repeat for more.", valueName: "key=value"))
        var fields: [String] = []

        @Option(help: ArgumentHelp("A description, free text.", valueName: "text"))
        var details: String?

        @Option(help: ArgumentHelp("Where it came from (edr, mail-gateway).", valueName: "source"))
        var source: String?

        @Option(name: .customLong("source-ref"), help: ArgumentHelp("The source's own id for it.", valueName: "ref"))
        var sourceRef: String?

        @Option(help: ArgumentHelp("Read the whole incident as a JSON object from this file (- for standard input).",
                                   valueName: "file"))
        var json: String?

        @Flag(help: "Print the API's JSON answer: {\"id\", \"deduplicated\", \"playbook\", \"run\", \"incident\"}.")
        var printJSON = false

        private static let severities = Incident.Severity.names
        private static let slaStates = SLAState.names

        func validate() throws {
            if let json {
                guard json == "-" || FileManager.default.isReadableFile(atPath: json) else {
                    throw ValidationError("cannot read \(json): check that it exists and its permissions")
                }
                let given = [title, type, severity, owner, details, source, sourceRef].contains { $0 != nil }
                guard !given, labels.isEmpty, fields.isEmpty else {
                    throw ValidationError("--json takes the whole incident: put the other options in its JSON instead")
                }
                return
            }
            guard title != nil, type != nil, let severity else {
                throw ValidationError("give --title, --type and --severity, or --json FILE with the incident")
            }
            guard Incident.Severity(named: severity) != nil else {
                throw ValidationError("--severity must be one of \(Self.severities), not '\(severity)'")
            }
            var keys: Set<String> = []
            for field in fields {
                guard let (key, _) = Self.split(field) else {
                    throw ValidationError("--field takes key=value, such as --field host=web-03, not '\(field)'")
                }
                guard keys.insert(key).inserted else { throw ValidationError("--field \(key) is given twice") }
            }
        }

        func run() async throws {
            guard let incident = incidentJSON() else {
                CommandLogging.report(CommandFailure("cannot read \(json ?? "-"): check that it exists and its permissions"))
                throw ExitCode.failure
            }
            let text = try await IncidentBackend.perform(options) { backend throws(CommandFailure) in
                try await backend.create(incident)
            }
            if printJSON { print(text) } else { printVisible(try IncidentOutput.created(text)) }
        }

        /// The incident as POST /api/v1/incidents takes it; nil if the --json file cannot be read.
        private func incidentJSON() -> String? {
            if let json {
                let data = json == "-" ? FileHandle.standardInput.readDataToEndOfFile()
                    : FileManager.default.contents(atPath: json)
                return data.map { String(decoding: $0, as: UTF8.self) }
            }
            var object = JSONText.Object()
            object["title"] = title.map(JSONText.string)
            object["type"] = type.map(JSONText.string)
            object["severity"] = severity.map { JSONText.string($0.lowercased()) }
            if let owner { object["owner"] = JSONText.string(owner) }
            object["labels"] = JSONText.array(labels.map(JSONText.string))
            var custom = JSONText.Object()
            for case let (key, value)? in fields.map(Self.split) {
                let isJSON = (try? JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)) != nil
                custom[key] = isJSON ? value : JSONText.string(value)
            }
            object["fields"] = custom.text
            if let details { object["details"] = JSONText.string(details) }
            if let source { object["source"] = JSONText.string(source) }
            if let sourceRef { object["source_ref"] = JSONText.string(sourceRef) }
            return object.text
        }

        /// `key=value` as its key and value; nil without a key.
        private static func split(_ field: String) -> (key: String, value: String)? {
            guard let equals = field.firstIndex(of: "="), equals != field.startIndex else { return nil }
            return (String(field[..<equals]), String(field[field.index(after: equals)...]))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List incidents, newest first: id, severity, status, SLA, owner, type, title.",
            discussion: """
                The SLA column says where an incident stands against its deadline: on_track, \
                at_risk (three quarters of the time gone), breached, met (closed in time), or - \
                without an SLA. --sla lists the incidents in those states now.

                Examples:
                  automator incident list
                  automator incident list --status new,active --severity high,critical
                  automator incident list --sla at_risk,breached --status new,active
                  automator incident list --text "password reset" --limit 20
                  automator incident list --indicator 'hxxp://examp1e-hr[.]test/login'
                  automator incident list --owner tier1 --json
                """
        )

        @OptionGroup var options: IncidentOptions

        @Option(help: ArgumentHelp("Only incidents with one of these statuses, comma-separated: \(statuses).",
                                   valueName: "status"))
        var status: String?

        @Option(help: ArgumentHelp("Only incidents of this type.", valueName: "type"))
        var type: String?

        @Option(help: ArgumentHelp("Only incidents with one of these severities, comma-separated: \(severities).",
                                   valueName: "severity"))
        var severity: String?

        @Option(help: ArgumentHelp("Only incidents in one of these SLA states now, comma-separated: \(slaStates).",
                                   valueName: "state"))
        var sla: String?

        @Option(help: ArgumentHelp("Only incidents this person or team owns.", valueName: "owner"))
        var owner: String?

        @Option(help: ArgumentHelp("Only incidents whose title, details, fields or payload contain this text.",
                                   valueName: "text"))
        var text: String?

        @Option(help: ArgumentHelp("""
            Only incidents that mention this IP, domain, URL, e-mail address, hash or CVE (an exact \
            match, defanged forms too: 10.0.0.1 does not find 10.0.0.12).
            """, valueName: "indicator"))
        var indicator: String?

        @Option(help: ArgumentHelp("At most this many incidents, from 1 to 1000.", valueName: "n"))
        var limit = 100

        @Flag(help: "Print the API's JSON: {\"incidents\": [...]}.")
        var json = false

        private static let statuses = Incident.Status.names
        private static let severities = Incident.Severity.names
        private static let slaStates = SLAState.names

        func validate() throws {
            try options.requireDataFolder()
            for name in status?.split(separator: ",") ?? [] where Incident.Status(named: name) == nil {
                throw ValidationError("--status takes \(Self.statuses), comma-separated, not '\(name)'")
            }
            for name in severity?.split(separator: ",") ?? [] where Incident.Severity(named: name) == nil {
                throw ValidationError("--severity takes \(Self.severities), comma-separated, not '\(name)'")
            }
            for name in sla.map({ $0.split(separator: ",", omittingEmptySubsequences: false) }) ?? []
            where SLAState(named: name) == nil {
                throw ValidationError("--sla takes \(Self.slaStates), comma-separated, not '\(name)'")
            }
            guard (1...1000).contains(limit) else {
                throw ValidationError("--limit must be from 1 to 1000, e.g. --limit 20")
            }
        }

        func run() async throws {
            let query = IncidentQuery(
                statuses: status?.split(separator: ",").compactMap { Incident.Status(named: $0) },
                type: type,
                severities: severity?.split(separator: ",").compactMap { Incident.Severity(named: $0) },
                owner: owner, text: text, indicator: indicator.map(IncidentIndicators.normalized),
                slaStates: sla?.split(separator: ",").compactMap { SLAState(named: $0) }, limit: limit)
            let text = try await IncidentBackend.perform(options) { backend throws(CommandFailure) in
                try await backend.incidents(query)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.incidents(text)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the case: SLA, playbook run, tasks, evidence, actions and journal.",
            discussion: """
                What HR or counsel ask for one case: each evidence file with the start of its \
                SHA-256, its size, who collected it and when, and its custody (how many views and \
                exports, the last); each action with its parameters, its state (undone, by whom), \
                who asked and who approved, and when. `automator evidence get EV-…` shows a file's \
                whole custody; `automator evidence export INC-7 INC-7.zip` hands the case on, signed.

                A playbook run that failed is shown with its error (file:line); once the \
                playbook is fixed, automator incident retry ID goes on from the step that failed. \
                The alert's payload (raw) is in --json only, which prints the API's incident JSON \
                with its journal added.

                Examples:
                  automator incident show INC-7
                  automator incident show INC-7 --json | jq '.journal[].text'
                """
        )

        @OptionGroup var options: IncidentOptions
        @OptionGroup var incident: OneIncident

        @Flag(help: "Print the API's JSON: the incident with its tasks, evidence and actions, and its journal added.")
        var json = false

        func validate() throws { try options.requireDataFolder() }

        func run() async throws {
            let (details, journal) = try await IncidentBackend.perform(options) { [id = incident.incident] backend
                throws(CommandFailure) in
                (try await backend.incident(id), try await backend.journal(of: id))
            }
            if json {
                // Both are JSON objects: the journal's member joins the incident's.
                print(String(details.json.dropLast()) + "," + journal.dropFirst())
            } else {
                printVisible(try IncidentOutput.details(details.json, journal: journal, from: details.server))
            }
        }
    }

    /// Makes `change` (the API's JSON) and prints the incident as it left it.
    static func apply(_ change: JSONText.Object, to id: IncidentID, options: IncidentOptions, json: Bool) async throws {
        let text = try await IncidentBackend.perform(options) { backend throws(CommandFailure) in
            try await backend.update(id, change)
        }
        if json { print(text) } else { printVisible(try IncidentOutput.changed(text)) }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an incident's owner, severity, status or labels; journaled on it.",
            discussion: """
                Each change is a line of the incident's journal, with who made it (cli:$USER). A \
                status other than closed reopens a closed incident; to close one, use close.

                Examples:
                  automator incident update INC-7 --owner alice
                  automator incident update INC-7 --severity critical \\
                      --label ransomware --label vip
                  automator incident update INC-7 --no-owner --status pending
                """
        )

        @OptionGroup var options: IncidentOptions
        @OptionGroup var incident: OneIncident
        @Option(help: ArgumentHelp("Who owns it now: a person or a team.", valueName: "name")) var owner: String?
        @Flag(help: "Nobody owns it any more.") var noOwner = false
        @Option(help: ArgumentHelp("info, low, medium, high or critical.", valueName: "severity")) var severity: String?
        @Option(help: ArgumentHelp("new, active or pending.", valueName: "status")) var status: String?
        @Option(help: ArgumentHelp("A label; repeat for more. The labels given replace the incident's.",
                                   valueName: "label"))
        var label: [String] = []
        @Flag(help: "Print the API's JSON: the incident.") var json = false

        func validate() throws {
            try options.requireDataFolder()
            if owner != nil, noOwner { throw ValidationError("give --owner or --no-owner, not both") }
            if owner?.trimmingCharacters(in: .whitespaces).isEmpty == true {
                throw ValidationError("--owner needs a name, such as --owner alice; --no-owner leaves it to nobody")
            }
            if status?.lowercased() == "closed" {
                throw ValidationError("to close an incident: automator incident close \(incident.id) --reason TEXT")
            }
        }

        func run() async throws {
            var change = JSONText.Object()
            if let owner { change["owner"] = JSONText.string(owner) }
            if noOwner { change["owner"] = "null" }
            if let severity { change["severity"] = JSONText.string(severity) }
            if let status { change["status"] = JSONText.string(status) }
            if !label.isEmpty { change["labels"] = JSONText.array(label.map(JSONText.string)) }
            try await IncidentCommand.apply(change, to: incident.incident, options: options, json: json)
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Close an incident, saying why; journaled on it.",
            discussion: """
                The reason is kept on the incident and in its journal, and reports count it as \
                resolved, by its resolution when given (true_positive, benign, false_positive, \
                undetermined). Its open tasks are cancelled and its playbook's run, if it still \
                waits, is stopped, each journaled; hooks/incident_closed.lua, when the scripts \
                folder has one, starts on it. `update --status active` reopens the incident, \
                clearing the reason and the resolution; it restarts neither the tasks nor the run \
                (automator playbook run NAME --incident INC-7 starts a playbook again).

                Example:
                  automator incident close INC-7 --resolution false_positive \\
                      --reason "an internal test mail"
                """
        )

        @OptionGroup var options: IncidentOptions
        @OptionGroup var incident: OneIncident
        @Option(help: ArgumentHelp("Why it is closed.", valueName: "text")) var reason: String
        @Option(help: ArgumentHelp("What it turned out to be: true_positive, benign, false_positive or undetermined.",
                                   valueName: "resolution"))
        var resolution: String?
        @Flag(help: "Print the API's JSON: the incident.") var json = false

        func validate() throws {
            try options.requireDataFolder()
            if reason.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(#"--reason needs a reason, such as --reason "false positive: a test mail""#)
            }
            if let resolution, Incident.Resolution(named: resolution) == nil {
                throw ValidationError("--resolution must be one of \(Incident.Resolution.names), got \(resolution)")
            }
        }

        func run() async throws {
            var change = JSONText.Object()
            change["status"] = JSONText.string("closed")
            change["reason"] = JSONText.string(reason)
            if let resolution { change["resolution"] = JSONText.string(resolution) }
            try await IncidentCommand.apply(change, to: incident.incident, options: options, json: json)
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start an incident's failed playbook run again, from the step that failed.",
            discussion: """
                The run replays what it did before the failure, with the playbook as it is now, \
                and goes on live from the step that failed. Only a failed (or diverged) run can \
                be retried: anything else fails with exit status 1. An action the run sent is \
                replayed as it ended, failed too: nothing is sent again on the approval given for \
                that attempt. To try it again, run it with a new approval: automator action run \
                NAME --param ... --incident ID --approve.

                Examples:
                  automator incident retry INC-7
                  automator incident retry INC-7 --json | jq -r .status
                  # after an outage, every incident whose playbook run failed:
                  automator runs list --status failed --limit 1000 --json \\
                      | jq -r '.runs[].incident // empty' | sort -u \\
                      | xargs -r -n1 automator incident retry
                """
        )

        @OptionGroup var options: IncidentOptions
        @OptionGroup var incident: OneIncident

        @Flag(help: "Print the API's JSON: the run.")
        var json = false

        func validate() throws { try options.requireDataFolder() }

        func run() async throws {
            let text = try await IncidentBackend.perform(options) { [id = incident.incident] backend throws(CommandFailure) in
                try await backend.retry(id)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.run(text, on: incident.incident)) }
        }
    }
}
