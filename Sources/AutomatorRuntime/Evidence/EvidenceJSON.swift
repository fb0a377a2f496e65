import Foundation

/// Evidence as JSON: for the API and the CLI (times in ISO 8601), in an incident's case and
/// `GET /api/v1/incidents/{id}/evidence` each file with a summary of its custody, at
/// `GET /api/v1/evidence/{id}` with every custody event; for scripts (`evidence.get`, times in
/// seconds since the epoch), with every custody event.
public enum EvidenceJSON {
    /// The file's record, how many custody events it has and the last of them; with `all`, the
    /// events too, oldest first (`custody`).
    public static func forAPI(_ evidence: Evidence, custody: [CustodyEvent], all: Bool = false) -> String {
        var object = fields(of: evidence, time: JSONText.time)
        object["custody_events"] = "\(custody.count)"
        object["last_custody"] = custody.last.map { event($0, time: JSONText.time) }
        if all { object["custody"] = JSONText.array(custody.map { event($0, time: JSONText.time) }) }
        return object.textWithoutNulls
    }

    /// The evidence as a playbook sees it: its record and its whole custody.
    static func forScript(_ evidence: Evidence, custody: [CustodyEvent]) -> String {
        var object = fields(of: evidence, time: JSONText.seconds)
        object["custody"] = JSONText.array(custody.map { event($0, time: JSONText.seconds) })
        return object.text
    }

    /// `{"evidence": [...]}`: an incident's files, as collected, each with its custody summary.
    public static func list(_ files: [(Evidence, [CustodyEvent])]) -> String {
        #"{"evidence":"# + JSONText.array(files.map { forAPI($0.0, custody: $0.1) }) + "}"
    }

    private static func fields(of evidence: Evidence, time: (Date) -> String) -> JSONText.Object {
        var object = JSONText.Object()
        object["id"] = JSONText.string(evidence.id)
        object["incident"] = JSONText.string(evidence.incident.description)
        object["name"] = JSONText.string(evidence.name)
        object["description"] = JSONText.string(evidence.description)
        object["tags"] = JSONText.array(evidence.tags.map(JSONText.string))
        object["size"] = "\(evidence.size)"
        object["md5"] = JSONText.string(evidence.hashes.md5)
        object["sha1"] = JSONText.string(evidence.hashes.sha1)
        object["sha256"] = JSONText.string(evidence.hashes.sha256)
        object["source"] = JSONText.string(evidence.source)
        object["collected_by"] = JSONText.string(evidence.collectedBy)
        object["collected_at"] = time(evidence.collectedAt)
        return object
    }

    private static func event(_ event: CustodyEvent, time: (Date) -> String) -> String {
        var item = JSONText.Object()
        item["at"] = time(event.at)
        item["actor"] = JSONText.string(event.actor)
        item["action"] = JSONText.string(event.action.rawValue)
        item["detail"] = JSONText.string(event.detail)
        return item.text
    }
}
