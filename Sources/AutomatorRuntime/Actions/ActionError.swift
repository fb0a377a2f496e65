/// Why an action was not run, or failed; each message says what to do.
public struct ActionError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        /// No such action, or its parameters do not fit its declaration.
        case invalid
        /// The parameters touch what the configuration protects, or the store refused it (its
        /// incident is closed).
        case refused
        case notFound
        /// Nobody with the role approved it (denied, or timed out).
        case notApproved
        /// The action cannot be undone (no undo, already undone, never done).
        case conflict
        /// The integration failed, or the store did.
        case failed
        /// The process stopped while the action was out: its run sends it again, with the same
        /// key, when it resumes. Not recorded as a failure.
        case interrupted
    }

    public let kind: Kind
    public let description: String
    /// What the integration raised when it raised a table (`error({ code = "quota" })`), as JSON
    /// with its secrets blanked out: what `actions.run` gives the playbook as why, `description`
    /// being its text for the record, the journal and the log.
    public let raised: String?

    public init(_ kind: Kind, _ description: String, raised: String? = nil) {
        self.kind = kind
        self.description = description
        self.raised = raised
    }
}
