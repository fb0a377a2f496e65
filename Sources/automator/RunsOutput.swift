import AutomatorRuntime
import AutomatorServer
import Foundation

/// How `automator runs` shows the API's JSON to a person: a table for a list, the details of
/// one run. Times in UTC.
enum RunsOutput {
    /// The fields a person reads; `args` and `result` are taken as text (see `RawJSON`).
    private struct Run: Decodable {
        var id: String
        var script: String
        var status: String
        var error: String?
        var createdAt: String
        var updatedAt: String
        var finishedAt: String?
        /// The incident a playbook's run works on; absent from a server older than this client.
        var incident: String?
        /// Absent without a server (`RunJSON`), and from a server older than this client.
        var playbookLoaded: Bool?
        /// What a waiting run waits on (`RunWait`); absent from a list and from an older server.
        var waitingOn: Wait?
        /// The host call a running run is in (`HostCallInFlight`), when the server holds it.
        var inCall: Call?

        /// The script, marked when its playbook is no longer loaded: the run goes on with the
        /// version it started with.
        var described: String { playbookLoaded == false ? script + " (playbook no longer loaded)" : script }
    }

    /// `RunWait.json`.
    private struct Wait: Decodable {
        var kind: String
        var id: String?
        var channel: String?
        var text: String?
        var title: String?
        var owner: String?
        var due: String?
        var since: String?
        var until: String?

        /// `on task T-3 (owner tier2, due 2026-12-02 04:00:00 UTC): Confirm with the reporter`,
        /// `on approval Q-1a2b3c4d in #soc since 2026-12-02 02:14:07 UTC: Block the sender?`,
        /// `until 2026-12-02 03:00:00 UTC (timer)`.
        var described: String {
            switch kind {
            case "timer":
                return "until \(until.map(time) ?? "?") UTC (timer)"
            case "task":
                let terms = [owner.map { "owner \($0)" } ?? "no owner", due.map { "due \(time($0)) UTC" }]
                    .compactMap(\.self)
                return "on task \(id ?? "?") (\(terms.joined(separator: ", "))): \(firstLine(title))"
            default:
                let asked = "in \(channel ?? "?") since \(since.map(time) ?? "?") UTC"
                return "on \(kind) \(id ?? "?") \(asked): \(firstLine(text))"
            }
        }
    }

    /// `HostCallInFlight.json`.
    private struct Call: Decodable {
        var name: String
        var since: String

        /// `in http.get since 2026-12-02 03:14:07 UTC`.
        var described: String { "in \(name) since \(time(since)) UTC" }
    }

    private struct List: Decodable {
        var runs: [Run]
    }

    /// The longest error a table shows, in characters.
    private static let errorWidth = 60

    static func table(_ json: String, status: RunRecord.Status?) throws -> String {
        let runs = try decoder.decode(List.self, from: Data(json.utf8)).runs
        guard !runs.isEmpty else { return status.map { "no \($0.rawValue) runs" } ?? "no runs" }
        let rows = [["ID", "STATUS", "SCRIPT", "INCIDENT", "CREATED (UTC)", "ERROR"]]
            + runs.map { [$0.id, $0.status, $0.described, $0.incident ?? "", time($0.createdAt), firstLine($0.error)] }
        let padded = rows[0].count - 1
        let widths = (0..<padded).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<padded).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ") + "  " + row[padded]
        }
        .map { $0.trimmingCharacters(in: .whitespaces) }
        .joined(separator: "\n")
    }

    static func details(_ json: String) throws -> String {
        let run = try decoder.decode(Run.self, from: Data(json.utf8))
        let raw = RawJSON.members(of: Array(json.utf8)) ?? [:]
        var lines = [("id", run.id), ("script", run.described)]
        if let incident = run.incident { lines.append(("incident", incident)) }
        let what = run.waitingOn?.described ?? run.inCall?.described
        lines += [("status", run.status + (what.map { " " + $0 } ?? "")),
                  ("args", raw["args"] ?? "[]")]
        if let result = raw["result"], result != "null" { lines.append(("result", result)) }
        lines += [("created", time(run.createdAt) + " UTC"), ("updated", time(run.updatedAt) + " UTC")]
        if let finished = run.finishedAt { lines.append(("finished", time(finished) + " UTC")) }
        // Last: it may span lines (a traceback).
        if let error = run.error { lines.append(("error", error.replacingOccurrences(of: "\n", with: "\n          "))) }
        return lines.map { $0.padding(toLength: 10, withPad: " ", startingAt: 0) + $1 }.joined(separator: "\n")
    }

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }()

    /// `2026-11-29T05:28:29.120Z` as `2026-11-29 05:28:29`.
    private static func time(_ iso: String) -> String {
        String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    /// The first line of `text` (an error, a question), cut to fit a table: `errorWidth` characters.
    private static func firstLine(_ text: String?) -> String {
        guard let line = text?.split(separator: "\n").first else { return "" }
        return line.count > errorWidth ? line.prefix(errorWidth - 1) + "…" : String(line)
    }
}
