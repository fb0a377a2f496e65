import Foundation
import Synchronization

/// The incident and task numbers of a store that one process owns (SQLite, under the data
/// folder's lock): counted in memory on from the highest stored.
///
/// A number is taken before its write, which holds it in several places (the journal, the
/// record of the call that made it). So that a create that fails (a full disk) leaves no gap, the
/// numbers of a write that did not commit are given back, and taken again by the next creates,
/// as long as no later number was given meanwhile: then they stay a gap, since giving them later
/// would number an incident opened after another below it.
final class NumberCounters: Sendable {
    private struct Counter {
        var last: Int
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
    }

    private struct Counters {
        var incident: Counter
        var task: Counter

        subscript(kind: NumberedKind) -> Counter {
            get { kind == .incident ? incident : task }
            set { if kind == .incident { incident = newValue } else { task = newValue } }
        }
    }

    private let counters: Mutex<Counters>

    init(highest: (incident: Int, task: Int)) {
        counters = Mutex(Counters(incident: Counter(last: highest.incident), task: Counter(last: highest.task)))
    }

    func take(_ kind: NumberedKind) -> Int { counters.withLock { $0[kind].take() } }

    /// The numbers `write` gave, which did not commit.
    func giveBack(_ numbers: [(NumberedKind, Int)]) {
        counters.withLock { counters in
            for (kind, number) in numbers { counters[kind].giveBack(number) }
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
