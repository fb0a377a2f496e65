public import Foundation

/// A change of a run's status, with its outcome when it finishes.
///
/// The store sets all of it: `result` and `error` replace what was there (nil clears them),
/// `updatedAt` becomes `at`, and `finishedAt` becomes `at` for a finished status or is cleared
/// for an unfinished one. It does not judge transitions: the scheduler owns the life cycle.
public struct RunUpdate: Sendable, Hashable {
    public var id: RunID
    public var status: RunRecord.Status
    /// The script's results, as JSON text.
    public var result: String?
    public var error: String?
    /// When the change happened (kept to the millisecond).
    public var at: Date

    public init(_ id: RunID, status: RunRecord.Status, result: String? = nil, error: String? = nil, at: Date = Date()) {
        self.id = id
        self.status = status
        self.result = result
        self.error = error
        self.at = at.roundedToMilliseconds
    }
}
