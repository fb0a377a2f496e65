import Foundation

/// A store that goes on reading while it refuses writes: SQLite on a full disk, or on a file this
/// user may not write. Its server stays up (reads, `/metrics`), so `/healthz` and `/metrics` say
/// why nothing new is kept, or no alert would fire while every incident is refused.
public protocol WriteRefusingStore: Store {
    /// Why writes fail now (a full disk, a read-only file); nil once a write commits again.
    var writeProblem: StoreError? { get }
}
