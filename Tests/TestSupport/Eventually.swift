/// Whether `condition` came to hold within `limit`, looking every 10 ms.
///
/// For a test that waits on an event it can observe (a row in the store, a request the loopback
/// server received, a mark a script left) rather than sleeping for a fixed time. The limit is
/// generous because the CI machine is shared: a condition that holds returns at once, so only a
/// failing test pays for it.
///
/// ```swift
/// #expect(try await eventually { tally.performed.withLock { $0.count } == 30 })
/// ```
public func eventually(within limit: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
