public import Foundation

/// How far work on evidence of gigabytes has got: bytes done, of the total. The CLI shows it.
public typealias EvidenceProgress = (_ done: Int64, _ total: Int64) -> Void

/// A file kept as evidence on an incident: its content is in the vault under its SHA-256, and
/// every look at it is a custody event.
public struct Evidence: Sendable, Hashable {
    /// `EV-` and 12 hexadecimal digits: given where it is collected (a playbook's run, the CLI),
    /// with no counter to share between processes.
    public var id: String
    public var incident: IncidentID
    public var name: String
    public var description: String
    /// Where it came from: `cli`, `playbook`, `chat`, a tool's name.
    public var source: String
    public var collectedBy: String
    public var collectedAt: Date
    public var tags: [String]
    public var hashes: FileHashes
    public var size: Int64

    public init(id: String = Evidence.newID(), incident: IncidentID, name: String, description: String = "",
                source: String, collectedBy: String, collectedAt: Date = Date(), tags: [String] = [],
                hashes: FileHashes, size: Int64)
    {
        self.id = id
        self.incident = incident
        self.name = name
        self.description = description
        self.source = source
        self.collectedBy = collectedBy
        self.collectedAt = collectedAt.roundedToMilliseconds
        self.tags = tags
        self.hashes = hashes
        self.size = size
    }

    public static func newID() -> String {
        "EV-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
    }
}

/// One step of an evidence file's chain of custody.
public struct CustodyEvent: Sendable, Hashable {
    public enum Action: String, Sendable, Hashable { case added, viewed, exported }

    public var evidence: String
    public var at: Date
    public var actor: String
    public var action: Action
    /// Where it went, for an export.
    public var detail: String

    public init(evidence: String, at: Date = Date(), actor: String, action: Action, detail: String = "") {
        self.evidence = evidence
        self.at = at.roundedToMilliseconds
        self.actor = actor
        self.action = action
        self.detail = detail
    }
}
