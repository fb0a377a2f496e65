import Foundation
import Synchronization

/// The incident and task numbers of a SQLite store, counted in memory on from the highest stored.
///
/// Several processes may write a folder with no server (`incident new` in two terminals, an import
/// beside a playbook run), so numbers are taken under the folder's `NumberingLock`: a process takes
/// it with its first number, reads the highest numbers stored (what another process committed
/// meanwhile), and holds it until every write holding one of its numbers has committed or failed
/// (`settle`). Within a process, numbers are taken without waiting while the lock is held: a busy
/// server pays one `flock` and one read of the highest numbers when it has none outstanding.
///
/// A number is taken before its write, which holds it in several places (the journal, the
/// record of the call that made it). So that a create that fails (a full disk) leaves no gap, the
/// numbers of a write that did not commit are given back, and taken again by the next creates,
/// as long as no later number was given meanwhile: then they stay a gap, since giving them later
/// would number an incident opened after another below it.
final class NumberCounters: Sendable {
    private struct Counter {
        var last = 0
        /// Numbers given back and not yet the last given again.
        var failed: Set<Int> = []

        mutating func take() -> Int {
            last += 1
            return last
        }

        mutating func giveBack(_ number: Int) {
            failed.insert(number)
            while failed.remove(last) != nil { last -= 1 }
        }

        /// On from `stored`, when another process numbered past what this one gave.
        mutating func catchUp(to stored: Int) {
            guard stored > last else { return }
            last = stored
            failed.removeAll()
        }
    }

    private struct Counters {
        var incident = Counter()
        var task = Counter()
        /// The numbers taken whose writes have not yet committed or failed: the lock is held while
        /// there are any.
        var outstanding: Set<Taken> = []

        subscript(kind: NumberedKind) -> Counter {
            get { kind == .incident ? incident : task }
            set { if kind == .incident { incident = newValue } else { task = newValue } }
        }
    }

    private struct Taken: Hashable {
        var kind: NumberedKind
        var number: Int
    }

    private let counters = Mutex(Counters())
    private let lock: NumberingLock
    /// The highest incident and task numbers stored, read when the lock is taken.
    private let highest: @Sendable () throws(StoreError) -> (incident: Int, task: Int)

    init(lock: NumberingLock, highest: @escaping @Sendable () throws(StoreError) -> (incident: Int, task: Int)) {
        self.lock = lock
        self.highest = highest
    }

    /// The next number of `kind`; waits while another process holds the folder's numbers.
    func take(_ kind: NumberedKind) throws(StoreError) -> Int {
        try counters.withLock { counters throws(StoreError) in
            if counters.outstanding.isEmpty {
                try lock.acquire()
                do throws(StoreError) {
                    let stored = try highest()
                    counters.incident.catchUp(to: stored.incident)
                    counters.task.catchUp(to: stored.task)
                } catch {
                    lock.release()
                    throw error
                }
            }
            let number = counters[kind].take()
            counters.outstanding.insert(Taken(kind: kind, number: number))
            return number
        }
    }

    /// The numbers a write gave, once it committed or failed, `givingBack` those that may be taken
    /// again; the lock goes once none is outstanding. Numbers this process did not take (a write
    /// made with its own) change nothing.
    func settle(_ numbers: [(NumberedKind, Int)], givingBack: Bool) {
        counters.withLock { counters in
            var settled = false
            for (kind, number) in numbers where counters.outstanding.remove(Taken(kind: kind, number: number)) != nil {
                settled = true
                if givingBack { counters[kind].giveBack(number) }
            }
            if settled && counters.outstanding.isEmpty { lock.release() }
        }
    }
}

extension StoreWrite {
    /// The numbers this write gives to new incidents and tasks.
    var newNumbers: [(NumberedKind, Int)] {
        switch self {
        case .createIncident(let incident), .importIncident(let incident, _): [(.incident, incident.id.number)]
        case .createTask(let task): [(.task, task.id.number)]
        case .all(let writes): writes.flatMap(\.newNumbers)
        default: []
        }
    }
}
