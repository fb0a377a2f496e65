/// The last `capacity` keys seen, to tell a repeat from a first: the keys scripts give
/// `msg:once` on every network (`ChatService`); Slack's retries of an event, and the `message`
/// and `app_mention` events of one message.
struct RecentKeys {
    let capacity: Int
    private var members: Set<String> = []
    private var ring: [String] = []
    private var oldest = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Remembers `key`; false if it was already remembered.
    mutating func insert(_ key: String) -> Bool {
        guard members.insert(key).inserted else { return false }
        if ring.count < capacity {
            ring.append(key)
        } else {
            members.remove(ring[oldest])
            ring[oldest] = key
            oldest = (oldest + 1) % capacity
        }
        return true
    }
}
