import Foundation

/// A value behind an `NSLock` (a plain pthread mutex), for state that many threads contend for
/// on a hot path: the executor's inbox, the run service's live runs.
///
/// Not `Synchronization.Mutex`: on Linux that is a priority-inheritance futex, which hands a
/// contended lock over through the kernel; under contention it cost several times the CPU per
/// operation (see docs/ARCHITECTURE.md, "Storage"). `Mutex` stays where contention is rare.
package final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
