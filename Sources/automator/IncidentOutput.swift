import AutomatorRuntime
import AutomatorServer
import Foundation

/// How `automator incident`, `task` and `playbook` show the API's JSON to a person: tables for
/// lists, the details of one incident, a line for what a command did. Times in UTC; deadlines
/// also relative to now (`in 1h 20m`, `overdue 5m`).
enum IncidentOutput {
    /// The fields a person reads, as the API names them.
    private enum API {
        struct Incident: Decodable {
            var id: String
            var title: String
            var type: String
            var severity: String
            var status: String
            var owner: String?
            var labels: [String]
            var details: String
            var source: String?
            var sourceRef: String?
            var createdAt: String
            var updatedAt: String
            var closedAt: String?
            var closeReason: String?
            var resolution: String?
            var alertCount: Int
            var links: [String]
            var sla: SLA?
            var playbook: Playbook?
            var tasks: [Task]?
            var progress: Progress?
            /// Absent from a server older than the case file.
            var evidence: [Evidence]?
            var actions: [Action]?
            /// The run of the last close's hook (`hooks/incident_closed.lua`).
            var closeHook: Hook?
        }

        struct Evidence: Decodable {
            var id: String
            var name: String
            var size: Int64
            var sha256: String
            var collectedBy: String
            var collectedAt: String
            var custodyEvents: Int
            var lastCustody: Custody?
        }

        /// A checked parameter as its text: a string, a number or a boolean.
        struct Parameter: Decodable {
            var text: String

            init(from decoder: any Decoder) throws {
                let value = try decoder.singleValueContainer()
                if let string = try? value.decode(String.self) { text = string }
                else if let number = try? value.decode(Double.self) { text = number.formatted(.number.grouping(.never)) }
                else { text = String(try value.decode(Bool.self)) }
            }
        }

        struct Custody: Decodable {
            var at: String
            var actor: String
            var action: String
        }

        struct Action: Decodable {
            var id: String
            var name: String
            var params: [String: Parameter]
            var status: String
            var requestedBy: String
            var approvedBy: String?
            var at: String
            var undoneBy: String?
        }

        struct SLA: Decodable {
            var due: String
            var state: String
            var breachedAt: String?
            var hook: Hook?
        }

        /// The run of a hook: an SLA breach's, a close's.
        struct Hook: Decodable {
            var script: String
            var run: String
            var status: String
            var error: String?
        }

        struct Playbook: Decodable {
            var name: String
            var run: String?
            var status: String?
            var error: String?
        }

        struct Task: Decodable {
            var id: String
            var incident: String
            var title: String
            var owner: String?
            var status: String
            var due: String?
            var choices: [String]
            var answer: String?
            var completedBy: String?
        }

        struct Progress: Decodable {
            var done: Int
            var total: Int
            var overdue: Int
            var cancelled: Int
        }

        struct Entry: Decodable {
            var sequence: Int64
            var at: String
            var actor: String
            var kind: String
            var text: String
        }

        struct Created: Decodable {
            var id: String
            var deduplicated: Bool
            var playbook: String?
            var run: String?
            /// Why its playbook did not start, or why its alert was kept unmapped.
            var warning: String?
        }

        struct Run: Decodable {
            var id: String
            var script: String
            var status: String
            var error: String?
        }

        struct Listed: Decodable {
            var name: String
            var file: String
            var priority: Int
            var match: String
            var sla: Int?
        }

        struct Problem: Decodable {
            var file: String
            var line: Int?
            var error: String
        }

        struct Incidents: Decodable { var incidents: [Incident] }
        struct Tasks: Decodable { var tasks: [Task] }
        struct Question: Decodable {
            var id: String
            var text: String
            var choices: [String]
            var incident: String?
            var channel: String
            var posted: Bool
            var askedAt: String
        }
        struct Questions: Decodable { var questions: [Question] }
        /// One question as `GET /api/v1/questions/{id}` gives it, answered or not.
        struct AskedQuestion: Decodable {
            var id: String
            var text: String
            var choices: [String]
            var roles: [String]
            var incident: String?
            var run: String?
            var network: String?
            var channel: String
            var posted: Bool
            var askedAt: String
            var answer: String?
            var answeredBy: String?
            var answeredAt: String?
        }
        struct Journal: Decodable { var journal: [Entry] }
        struct Playbooks: Decodable {
            var playbooks: [Listed]
            var problems: [Problem]
            /// Absent from a server older than this client.
            var unloaded: [Unloaded]?
        }
        struct Unloaded: Decodable {
            struct Run: Decodable {
                var id: String
                var incident: String?
                var status: String
                var script: String
            }
            var name: String
            var runs: [Run]
        }
    }

    /// The longest title a table shows, in characters.
    private static let titleWidth = 60

    // MARK: Incidents

    /// `INC-7 created (playbook "Phishing triage", run run-…)`, or `INC-3: linked as a duplicate alert`.
    static func created(_ json: String) throws -> String {
        let created = try decode(API.Created.self, json)
        if created.deduplicated { return "\(created.id): linked as a duplicate alert" }
        if let warning = created.warning { return "\(created.id) created; \(warning)" }
        guard let playbook = created.playbook, let run = created.run else {
            return "\(created.id) created (no playbook matches it)"
        }
        return "\(created.id) created (playbook \"\(playbook)\", run \(run))"
    }

    /// An incident as a change left it: `INC-7 closed (false positive), owner alice, high`.
    static func changed(_ json: String) throws -> String {
        let incident = try decode(API.Incident.self, json)
        return "\(incident.id) \(incident.status)" + (incident.resolution.map { " as \($0)" } ?? "")
            + (incident.closeReason.map { " (\($0))" } ?? "")
            + ", owner \(incident.owner ?? "-"), \(incident.severity)"
            + (incident.labels.isEmpty ? "" : ", labels " + incident.labels.joined(separator: ", "))
    }

    static func incidents(_ json: String) throws -> String {
        let incidents = try decode(API.Incidents.self, json).incidents
        guard !incidents.isEmpty else { return "no incidents" }
        return TextTable.render([["ID", "SEVERITY", "STATUS", "SLA", "OWNER", "TYPE", "TITLE"]] + incidents.map {
            [$0.id, $0.severity, $0.status, $0.sla?.state ?? "-", $0.owner ?? "-", $0.type, short($0.title)]
        })
    }

    /// The incident, its SLA, its playbook's run, its tasks, its evidence and actions, then its
    /// journal. `server` names the server that sent `json`, for the sections an older one leaves out.
    static func details(_ json: String, journal: String, from server: String? = nil) throws -> String {
        let incident = try decode(API.Incident.self, json)
        var lines = [
            ("id", incident.id), ("title", incident.title), ("type", incident.type), ("severity", incident.severity),
            ("status", incident.status), ("owner", incident.owner ?? "-"),
        ]
        if !incident.labels.isEmpty { lines.append(("labels", incident.labels.joined(separator: ", "))) }
        if let source = incident.source { lines.append(("source", source + (incident.sourceRef.map { " \($0)" } ?? ""))) }
        if incident.alertCount > 1 { lines.append(("alerts", "\(incident.alertCount)")) }
        if !incident.links.isEmpty { lines.append(("links", incident.links.joined(separator: ", "))) }
        lines += [("created", time(incident.createdAt) + " UTC"), ("updated", time(incident.updatedAt) + " UTC")]
        if let closed = incident.closedAt {
            lines.append(("closed", time(closed) + " UTC" + (incident.resolution.map { " as \($0)" } ?? "")
                + (incident.closeReason.map { ": \($0)" } ?? "")))
        }
        // Started is not done: the hook may fail (the source's incident left open), or still run.
        if let hook = incident.closeHook {
            lines.append(("close hook", "\(hook.script), run \(hook.run) \(hook.status)" + (hook.error.map { ": \($0)" } ?? "")))
        }
        if let sla = incident.sla {
            // How far the due time is from now says nothing once the incident is closed.
            let distance = incident.closedAt == nil ? " (" + relative(sla.due) { "\($0) ago" } + ")" : ""
            lines.append(("sla", "\(sla.state), due \(time(sla.due)) UTC\(distance)"
                + (sla.breachedAt.map { ", breach noted \(time($0)) UTC" } ?? "")))
            // Noted is not handled: the hook may fail, or still run.
            if let hook = sla.hook {
                lines.append(("breach", "\(hook.script), run \(hook.run) \(hook.status)"
                    + (hook.error.map { ": \($0)" } ?? "")))
            }
        }
        lines += playbookLines(incident)
        if let fields = fieldLines(json) { lines.append(("fields", fields)) }
        if !incident.details.isEmpty { lines.append(("details", incident.details)) }
        return [Self.fields(lines), "", taskLines(incident), "", evidenceLines(incident, from: server), "",
                actionLines(incident, from: server), "", try journalLines(journal)].joined(separator: "\n")
    }

    /// `evidence:`, then a line per file: id, name, the start of its SHA-256, its size, who
    /// collected it and when, and its custody (how many events, the last).
    private static func evidenceLines(_ incident: API.Incident, from server: String?) -> String {
        guard let evidence = incident.evidence else { return "evidence: " + notSent("evidence", by: server) }
        guard !evidence.isEmpty else { return "evidence: none" }
        let rows = evidence.map { file in
            [file.id, short(file.name), String(file.sha256.prefix(16)) + "…", file.size.counted("byte"), file.collectedBy,
             time(file.collectedAt),
             "custody: \(file.custodyEvents)" + (file.lastCustody.map { ", last \($0.action) by \($0.actor) \(time($0.at))" } ?? "")]
        }
        return "evidence:\n" + TextTable.render([["ID", "NAME", "SHA256", "SIZE", "COLLECTED BY", "AT (UTC)", "CUSTODY"]] + rows,
                                                 indent: "  ")
    }

    /// In place of a section of the case that `server`, older than it, did not send: not "none",
    /// which would tell of a case with no evidence.
    private static func notSent(_ section: String, by server: String?) -> String {
        "not sent by \(server ?? "the store"), which is older than the case's \(section): automator "
            + "\(AutomatorVersion.current) sends it; upgrade the server to see it"
    }

    /// `actions:`, then a line per action, oldest first: id, action, its parameters in short, its
    /// state (undone, by whom), who asked, who approved, when.
    private static func actionLines(_ incident: API.Incident, from server: String?) -> String {
        guard let actions = incident.actions else { return "actions: " + notSent("actions", by: server) }
        guard !actions.isEmpty else { return "actions: none" }
        let rows = actions.map { action in
            [action.id, action.name, short(action.params.keys.sorted().map { "\($0)=\(action.params[$0]!.text)" }
                .joined(separator: " ")), action.status + (action.undoneBy.map { " by \($0)" } ?? ""),
             action.requestedBy, action.approvedBy ?? "-", time(action.at)]
        }
        return "actions:\n" + TextTable.render([["ID", "ACTION", "PARAMETERS", "STATE", "ASKED BY", "APPROVED BY", "AT (UTC)"]]
            + rows, indent: "  ")
    }


    /// The custom fields, one a line, by name: `sender: payroll@examp1e-hr.test`. Values other
    /// than strings as they were sent (`1.0` stays `1.0`).
    private static func fieldLines(_ json: String) -> String? {
        guard let text = RawJSON.members(of: Array(json.utf8))?["fields"],
              let fields = RawJSON.members(of: Array(text.utf8)), !fields.isEmpty
        else { return nil }
        return fields.keys.sorted().map { name in
            let value = fields[name]!
            return name + ": " + ((try? decoder.decode(String.self, from: Data(value.utf8))) ?? value)
        }
        .joined(separator: "\n")
    }

    private static func playbookLines(_ incident: API.Incident) -> [(String, String)] {
        guard let playbook = incident.playbook else { return [("playbook", "- (none matched)")] }
        var lines = [("playbook", playbook.name + (playbook.run.map { ", run \($0)" } ?? "")
            + (playbook.status.map { " \($0)" } ?? ""))]
        if let error = playbook.error { lines.append(("error", error)) }
        if playbook.status == "failed" || playbook.status == "diverged" {
            lines.append(("hint", "fix the playbook, then: automator incident retry \(incident.id)"))
        }
        return lines
    }

    /// `tasks: 1/3 done, 1 overdue, 1 cancelled`, then a line per task: id, status, owner, due, title,
    /// answer.
    private static func taskLines(_ incident: API.Incident) -> String {
        guard let tasks = incident.tasks, let progress = incident.progress, !tasks.isEmpty else { return "tasks: none" }
        let summary = "tasks: \(progress.done)/\(progress.total) done"
            + (progress.overdue > 0 ? ", \(progress.overdue) overdue" : "")
            + (progress.cancelled > 0 ? ", \(progress.cancelled) cancelled" : "")
        let rows = tasks.map { task in
            [task.id, task.status, task.owner ?? "-", task.status == "open" ? due(task) : "-", task.title, outcome(task)]
        }
        return summary + "\n" + TextTable.render(rows, indent: "  ")
    }

    /// `journal:`, then the entries as `journal(_:heading:indent:)` prints them.
    private static func journalLines(_ json: String) throws -> String {
        let journal = try self.journal(json, indent: "  ")
        return journal.isEmpty ? "journal: empty" : "journal:\n" + journal
    }

    /// The entries of `{"journal": [...]}`, a line each (time, actor, kind, text, its further lines
    /// indented), under `TIME (UTC)  ACTOR  KIND  TEXT` unless `heading` is false (the pages after
    /// the first of `journal show --follow`): a journal pasted into a report for HR or counsel says
    /// its times' zone. Empty for no entry.
    static func journal(_ json: String, heading: Bool = true, indent: String = "") throws -> String {
        let entries = try decode(API.Journal.self, json).journal
        guard !entries.isEmpty else { return "" }
        return TextTable.render((heading ? [["TIME (UTC)", "ACTOR", "KIND", "TEXT"]] : [])
            + entries.map { [time($0.at), $0.actor, $0.kind, $0.text] }, indent: indent)
    }

    /// What `incident retry` and `playbook run` started: `INC-7: run run-… running (playbooks/phishing.lua)`,
    /// with the error of a run that has failed already.
    static func run(_ json: String, on incident: IncidentID) throws -> String {
        let run = try decode(API.Run.self, json)
        return "\(incident): run \(run.id) \(run.status) (\(run.script))"
            + (run.error.map { "\n  " + $0.replacingOccurrences(of: "\n", with: "\n  ") } ?? "")
    }

    // MARK: Tasks

    static func tasks(_ json: String, includingDone: Bool) throws -> String {
        let tasks = try decode(API.Tasks.self, json).tasks
        guard !tasks.isEmpty else { return includingDone ? "no tasks" : "no open tasks" }
        return TextTable.render([["ID", "INCIDENT", "OWNER", "DUE", "TITLE", "CHOICES"]] + tasks.map { task in
            let open = task.status == "open"
            return [task.id, task.incident, task.owner ?? "-", open ? due(task) : task.status, short(task.title),
                    open ? task.choices.joined(separator: ", ") : outcome(task)]
        })
    }

    /// A task's answer and who gave it, or who cancelled it (by closing its incident); its
    /// choices while it is open.
    private static func outcome(_ task: API.Task) -> String {
        let by = task.completedBy.map { " (\($0))" } ?? ""
        switch task.status {
        case "done": return "answer: \(task.answer ?? "")" + by
        case "cancelled": return "cancelled" + by
        default: return task.choices.isEmpty ? "" : "choices: " + task.choices.joined(separator: ", ")
        }
    }

    /// `T-3 done: phishing`.
    static func completed(_ json: String) throws -> String {
        let task = try decode(API.Task.self, json)
        return "\(task.id) done" + (task.answer.flatMap { $0.isEmpty ? nil : ": \($0)" } ?? "")
    }

    static func assigned(_ json: String) throws -> String {
        let task = try decode(API.Task.self, json)
        return "\(task.id) given to \(task.owner ?? "nobody"): \(task.title)"
    }

    // MARK: Questions

    /// Open questions, oldest first; one that was never posted in chat says so.
    static func questions(_ json: String) throws -> String {
        let questions = try decode(API.Questions.self, json).questions
        guard !questions.isEmpty else { return "no open questions" }
        return TextTable.render([["ID", "INCIDENT", "ASKED", "QUESTION", "CHOICES"]] + questions.map { question in
            [question.id, question.incident ?? "-", time(question.askedAt),
             short(question.text) + (question.posted ? "" : " (not posted in \(question.channel))"),
             question.choices.joined(separator: ", ")]
        })
    }

    /// One question: what it asks, its choices, who may answer, where and for which incident it
    /// was asked, and who answered it and when (or that nobody has).
    static func question(_ json: String) throws -> String {
        let question = try decode(API.AskedQuestion.self, json)
        let place = (question.network.map { "\($0) " } ?? "") + question.channel
            + (question.posted ? "" : " (not posted: answered here or through the API)")
        var lines = [("id", question.id), ("question", question.text), ("choices", question.choices.joined(separator: ", ")),
                     ("roles", question.roles.isEmpty ? "anyone" : question.roles.joined(separator: ", ")),
                     ("incident", question.incident ?? "-"), ("run", question.run ?? "-"), ("channel", place),
                     ("asked", time(question.askedAt) + " UTC")]
        if let answer = question.answer {
            lines.append(("answer", answer + (question.answeredBy.map { " by \($0)" } ?? "")
                + (question.answeredAt.map { ", " + time($0) + " UTC" } ?? "")))
        } else {
            lines.append(("answer", "none yet: automator question answer \(question.id) CHOICE"))
        }
        return fields(lines)
    }

    // MARK: Playbooks

    /// The playbooks in the order they are tried, then the files that could not be read.
    static func playbooks(_ json: String) throws -> String {
        let answer = try decode(API.Playbooks.self, json)
        var text = answer.playbooks.isEmpty ? "no playbooks" : TextTable.render([["NAME", "FILE", "PRIORITY", "MATCH", "SLA"]]
            + answer.playbooks.map { [$0.name, $0.file, "\($0.priority)", $0.match, $0.sla.map(declared) ?? "-"] })
        if !answer.problems.isEmpty {
            text += "\n\nnot used, they could not be read:\n"
                + answer.problems.map { "  \($0.file):" + ($0.line.map { "\($0):" } ?? "") + " \($0.error)" }
                .joined(separator: "\n")
        }
        if let unloaded = answer.unloaded, !unloaded.isEmpty {
            text += "\n\nno longer loaded, their unfinished runs go on with the version they started with "
                + "(automator runs kill RUN stops one):\n"
                + unloaded.map { playbook in
                    "  \(playbook.name): " + playbook.runs.map { run in
                        run.id + " (" + ([run.incident, run.status, run.script].compactMap { $0 }.joined(separator: ", ")) + ")"
                    }.joined(separator: ", ")
                }
                .joined(separator: "\n")
        }
        return text
    }

    // MARK: Helpers

    private static func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try decoder.decode(type, from: Data(json.utf8))
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// The first line of a text, cut to fit a table.
    private static func short(_ text: String) -> String {
        let line = text.split(separator: "\n").first ?? ""
        return line.count > titleWidth ? line.prefix(titleWidth - 1) + "…" : String(line)
    }

    /// A record a field a line, names in a column of 10 and a value's further lines under its first:
    /// as `incident show`, `question show` and `action show` print one.
    static func fields(_ lines: [(String, String)]) -> String {
        lines.map { key, value in
            key.padding(toLength: 10, withPad: " ", startingAt: 0) + value.replacingOccurrences(of: "\n", with: "\n          ")
        }.joined(separator: "\n")
    }

    /// `2026-11-29T05:28:29.120Z` as `2026-11-29 05:28:29`.
    static func time(_ iso: String) -> String {
        String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    /// An open task's due time: `in 1h 20m`, `overdue 5m`, or `-` without one.
    private static func due(_ task: API.Task) -> String {
        task.due.map { due in relative(due) { "overdue \($0)" } } ?? "-"
    }

    /// How far a time is from now: `in 1h 20m`, or `late(span)` once it is past.
    private static func relative(_ iso: String, late: (String) -> String) -> String {
        guard let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(iso) else { return iso }
        let seconds = date.timeIntervalSinceNow
        return seconds >= 0 ? "in " + DurationText.span(seconds) : late(DurationText.span(-seconds))
    }

    /// A duration as a playbook declares it, in the largest unit that divides it: `90s`, `4h`, `2d`.
    private static func declared(_ seconds: Int) -> String {
        let units = [(7 * 86400, "w"), (86400, "d"), (3600, "h"), (60, "m")]
        guard seconds > 0, let (size, name) = units.first(where: { seconds % $0.0 == 0 }) else { return "\(seconds)s" }
        return "\(seconds / size)\(name)"
    }

}
