public import Foundation

/// A playbook as the catalog read it: what it matches, in which order, and its SLA. The source
/// is kept as read, so every run started from this catalog runs the same text.
public struct Playbook: Sendable, Hashable {
    /// Which incidents it takes.
    public enum Match: Sendable, Hashable {
        /// Every field given must have one of its values (`labels`: the incident has one of
        /// them); an empty table matches every incident.
        case fields([String: [String]])
        /// The playbook's `match(inc)` decides.
        case function
    }

    public var name: String
    /// The file, relative to the scripts folder (`playbooks/phishing.lua`).
    public var path: String
    public var source: [UInt8]
    /// Higher is tried first; ties go by name.
    public var priority: Int
    public var match: Match?
    /// The incident SLA it sets, in seconds.
    public var sla: TimeInterval?
    public var handlesBreach: Bool

    /// The fields a table `match` may name.
    public static let matchFields = ["type", "severity", "status", "source", "owner", "title", "labels"]

    /// Whether a table `match` takes `incident` (nil for a function: the evaluator decides).
    func matches(_ incident: Incident) -> Bool? {
        guard case .fields(let fields) = match else { return match == nil ? false : nil }
        for (field, values) in fields {
            let actual: [String] = switch field {
            case "type": [incident.type]
            case "severity": [incident.severity.rawValue]
            case "status": [incident.status.rawValue]
            case "source": incident.source.map { [$0] } ?? []
            case "owner": incident.owner.map { [$0] } ?? []
            case "title": [incident.title]
            case "labels": incident.labels
            default: []
            }
            guard actual.contains(where: values.contains) else { return false }
        }
        return true
    }

    /// How the match reads for people: `type=phishing severity=high|critical`.
    public var matchDescription: String {
        switch match {
        case nil: "(never: no match)"
        case .function: "match(inc)"
        case .fields(let fields) where fields.isEmpty: "every incident"
        case .fields(let fields):
            fields.keys.sorted().map { "\($0)=\(fields[$0]!.joined(separator: "|"))" }.joined(separator: " ")
        }
    }
}

/// A mistake for which a playbook file is left out: listed, never chosen. A file whose
/// declaration has several mistakes has a problem for each.
public struct PlaybookProblem: Sendable, Hashable, CustomStringConvertible {
    public var path: String
    /// The line the mistake is about, when one is: the field a declaration's mistake names.
    public var line: Int?
    /// The mistake alone: no place, no traceback.
    public var message: String

    /// `playbooks/x.lua:4: playbook: unknown field sal (did you mean sla?)`.
    public var description: String { ScriptProblem(file: path, line: line, message: message).description }
}
