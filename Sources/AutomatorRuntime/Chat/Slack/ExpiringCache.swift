/// Values by key, each forgotten `lifetime` after it was stored; at most `capacity` of them
/// (when full, the expired go first, and if none has, everything).
struct ExpiringCache<Value> {
    let lifetime: Duration
    let capacity: Int
    private var entries: [String: (value: Value, expires: ContinuousClock.Instant)] = [:]

    init(lifetime: Duration, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    subscript(key: String) -> Value? {
        guard let entry = entries[key], entry.expires > .now else { return nil }
        return entry.value
    }

    mutating func store(_ value: Value, for key: String) {
        if entries.count >= capacity, entries[key] == nil {
            let now = ContinuousClock.now
            entries = entries.filter { $0.value.expires > now }
            if entries.count >= capacity { entries.removeAll() }
        }
        entries[key] = (value, .now + lifetime)
    }
}
