/// Deadlines, earliest first: the runs sleeping on host timers, the SLAs of open incidents. A
/// binary heap: 100,000 sleeping runs cost 100,000 small entries, not 100,000 system timers or
/// tasks, and adding one costs a few swaps, not a shift of the whole list.
struct TimerHeap<Value> {
    struct Entry {
        /// In the owner's unit: uptime nanoseconds for the executor, milliseconds since 1970
        /// for the SLAs.
        var deadline: UInt64
        var value: Value
    }

    private var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var earliest: UInt64? { entries.first?.deadline }

    mutating func insert(_ value: Value, at deadline: UInt64) {
        entries.append(Entry(deadline: deadline, value: value))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
                if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
                if smallest == parent { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}
