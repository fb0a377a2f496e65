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

/// A function kept behind a lock (`Locked`, `Mutex`): `Locked<Callback<...>?>`, never the bare
/// function type.
///
/// A lock hands its value to the body `inout`, and when that value is a function, Swift passes it
/// through a temporary of the caller's representation: a thunk around it on the way in, another
/// on the way back, and the wrapped one written back. So every `withLock { $0 }` made the stored
/// function two thunks deeper, and each call walked all the earlier reads: the stop that every
/// incident's close calls made ingest quadratic (5,000 incidents/s fell to 350 over 20,000) and
/// kept every thunk alive. A struct is passed as it is stored, so the function inside it is not
/// rewrapped; reading `call` wraps it once, and nothing is written back.
package struct Callback<Function: Sendable>: Sendable {
    package let call: Function

    package init(_ call: Function) { self.call = call }
}
