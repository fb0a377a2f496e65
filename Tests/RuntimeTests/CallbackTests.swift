@testable import AutomatorRuntime
import Testing

/// Where the stack is in the frame that calls this: how deep the calls that led here went.
@inline(never) private func stackPosition() -> Int {
    var local = 0
    return withUnsafeMutablePointer(to: &local) { Int(bitPattern: $0) }
}

@Suite struct CallbackTests {
    /// Stored bare, each `withLock { $0 }` wrapped the function in two more thunks, so every
    /// call went through all the earlier reads (the incidents' close made ingest quadratic). Each
    /// thunk is a frame: reached after 500 reads, the function ran 32 KB deeper in the stack.
    @Test("A function kept behind a lock is reached as directly after 500 reads as after one")
    func notRewrappedByReads() {
        let kept = Locked<Callback<@Sendable () -> Int>?>(Callback { stackPosition() })
        let first = kept.withLock { $0 }!.call()
        for _ in 0..<500 { _ = kept.withLock { $0 } }
        let later = kept.withLock { $0 }!.call()
        #expect(first == later, "reached \(first - later) bytes deeper in the stack after 500 reads")
    }
}
