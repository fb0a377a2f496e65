import Foundation

/// A store that goes on reading while it refuses writes: SQLite on a full disk, or on a file this
/// user may not write. Its server stays up (reads, `/metrics`), so `/healthz` and `/metrics` say
/// why nothing new is kept, or no alert would fire while every incident is refused.
public protocol WriteRefusingStore: Store {
    /// Why writes fail now (a full disk, a read-only file); nil once a write commits again.
    var writeProblem: StoreError? { get }

    /// While writes are refused, tries one that keeps nothing, so that `writeProblem` clears once
    /// the operator freed space or fixed the file's mode, without waiting for a request or a run
    /// to write (with no traffic, the disk-full alert would fire on).
    func probeWrites()
}
