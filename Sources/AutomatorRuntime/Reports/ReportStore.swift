public import Foundation

/// Where `automator report` and `automator audit` get their figures: each implementation
/// counts the way its database does it fastest (SQLite: one scan per table; PostgreSQL: `GROUP
/// BY`), through `ReportTally`, so that their reports read alike.
///
/// Implementations are checked against `Tests/RuntimeTests/ReportTests.swift`, whose fixture's
/// every figure is computed by hand.
public protocol ReportStore: Store {
    /// The report of `window`, with the SLA states and overdue tasks as of `now`.
    func report(_ window: ReportWindow, at now: Date) async throws(StoreError) -> Report

    /// Who did what: the journal entries of the window, and what happened on no incident
    /// (`AuditEntry`), newest first.
    func audit(_ query: AuditQuery) async throws(StoreError) -> [AuditEntry]
}

/// Which journal entries `audit` lists.
public struct AuditQuery: Sendable, Hashable {
    public var window: ReportWindow
    /// An actor (`cli:alice`), or the part of actors before `:` or a space: `slack` is every
    /// Slack user, `playbook` every playbook's run, `cli` everyone at a terminal.
    public var actor: String?
    public var limit: Int
    /// Only the entries after this place: the page after the one that ended there.
    public var after: AuditCursor?

    public init(window: ReportWindow, actor: String? = nil, limit: Int = 1000, after: AuditCursor? = nil) {
        self.window = window
        self.actor = actor
        self.limit = limit
        self.after = after
    }
}
