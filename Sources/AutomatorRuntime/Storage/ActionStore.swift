public import Foundation

/// What the store keeps of the actions run: who asked, who approved, with what, what came back,
/// whether it was undone, and when it lifts itself. Implementations pass the conformance suite.
public protocol ActionStore: IncidentStore {
    func action(_ id: String) async throws(StoreError) -> ActionRecord?

    /// Actions newest first: all, or those on `incident`; at most `limit`.
    func actions(on incident: IncidentID?, limit: Int) async throws(StoreError) -> [ActionRecord]

    /// Actions done and not undone that lift themselves at a time (`ttl`), soonest first.
    func expiringActions() async throws(StoreError) -> [ActionRecord]
}

/// One action, from the moment it is sent (or planned, in a dry run).
public struct ActionRecord: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable {
        /// A dry run: checked and recorded, nothing sent.
        case planned
        /// Sent, no answer recorded yet: a crash there sends it again with the same idempotency key.
        case sending
        case done, failed
        /// Reversed by its undo (by a person, or its ttl).
        case undone
        /// Not run: its checks refused it, an approver said no, or nobody approved it in time.
        /// Kept for the audit and the report; why is in `result`.
        case refused, denied
        case timedOut = "timed_out"
    }

    /// `ACT-` and 10 hexadecimal digits of the idempotency key's SHA-256: the same key always
    /// names the same action, so a replayed send finds its record.
    public var id: String
    /// The run and its call number (`run-…/7`), or `cli-…` for the CLI: sent to the integration,
    /// which passes it on to APIs that take one.
    public var key: String
    /// `checkpoint.block_ip`.
    public var name: String
    /// JSON object, as checked.
    public var parameters: String
    public var incident: IncidentID?
    public var requestedBy: String
    /// Nil when no approval was needed; `standingApproval` for a playbook's standing approval.
    public var approvedBy: String?
    /// Who approved an action its playbook approves in its declaration (`approvals = { ... }`).
    public static let standingApproval = "standing approval of the playbook"
    public var status: Status
    /// What the integration returned (JSON); its error when failed; why when not run.
    public var result: String?
    public var at: Date
    public var expiresAt: Date?
    /// How long it lasts once sent before its undo runs by itself: the call's ttl, else the
    /// declaration's. Kept from the plan, so that a dry run shows what it would have; nil for an
    /// action that stays, and for those kept before schema v20.
    public var ttl: TimeInterval?
    public var undoneBy: String?
    public var undoneAt: Date?
    /// The chat question whose yes approved it (`chat.approve` in `actions.run`): the report's time
    /// to approval is that question's wait, linked rather than guessed from the run's answers.
    public var question: String?
    /// Whether it may be sent on a closed incident, as its declaration says (`on_closed`): it
    /// writes the close back to the incident's source, where any other action on a closed
    /// incident is refused. Read as the record is written, not stored.
    public var followsClose = false

    public init(id: String, key: String, name: String, parameters: String, incident: IncidentID?, requestedBy: String,
                approvedBy: String?, status: Status, result: String? = nil, at: Date = Date(), expiresAt: Date? = nil)
    {
        self.id = id
        self.key = key
        self.name = name
        self.parameters = parameters
        self.incident = incident
        self.requestedBy = requestedBy
        self.approvedBy = approvedBy
        self.status = status
        self.result = result
        self.at = at.roundedToMilliseconds
        self.expiresAt = expiresAt?.roundedToMilliseconds
    }
}

extension ActionRecord {
    /// `ttl` as both stores keep it.
    var ttlMilliseconds: Int64? { ttl.map { Int64(($0 * 1000).rounded()) } }
}
