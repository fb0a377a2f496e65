/// Runs the operations given the same key one after the other, and those with different keys
/// at once: two alerts with one source reference must not both open an incident.
actor KeyedSerializer {
    private var tails: [String: Task<Void, Never>] = [:]

    func serialize<T: Sendable>(_ key: String, _ operation: @escaping @Sendable () async throws(IncidentError) -> T)
        async throws(IncidentError) -> T
    {
        let previous = tails[key]
        let task = Task<Result<T, IncidentError>, Never> {
            await previous?.value
            do throws(IncidentError) { return .success(try await operation()) } catch { return .failure(error) }
        }
        let tail = Task<Void, Never> { _ = await task.value }
        tails[key] = tail
        let result = await task.value
        if tails[key] == tail { tails[key] = nil }
        return try result.get()
    }
}
