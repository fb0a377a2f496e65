import Foundation
import Synchronization

/// The incident and task numbers of a SQLite store: counted on from the highest stored at opening
/// and the last given by any process on the file (`NumbersFile`), so that two commands writing one
/// data folder never give one number twice.
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

        /// On from `given`, when another process gave numbers past this one's: those this one
        /// gave back stay gaps.
        mutating func catchUp(to given: Int) {
            guard given > last else { return }
            last = given
            failed.removeAll()
        }
    }

    private struct Counters {
        var incident: Counter
        var task: Counter

        subscript(kind: NumberedKind) -> Counter {
            get { kind == .incident ? incident : task }
            set { if kind == .incident { incident = newValue } else { task = newValue } }
        }

        /// Caught up with the numbers other processes gave, then `change`d, the file told the last given.
        mutating func sharing<T>(_ given: inout (incident: Int, task: Int), _ change: (inout Counters) -> T) -> T {
            incident.catchUp(to: given.incident)
            task.catchUp(to: given.task)
            let result = change(&self)
            given = (incident.last, task.last)
            return result
        }
    }

    private let counters: Mutex<Counters>
    private let file: NumbersFile

    init(highest: (incident: Int, task: Int), file: NumbersFile) {
        counters = Mutex(Counters(incident: Counter(last: highest.incident), task: Counter(last: highest.task)))
        self.file = file
    }

    deinit { file.close() }

    /// The next number of `kind`. The file's lock is taken inside the mutex and held for its read
    /// and write only: nothing waits on a reader, a writer or another task meanwhile.
    func take(_ kind: NumberedKind) throws(StoreError) -> Int {
        try counters.withLock { counters throws(StoreError) in
            try file.update { given in counters.sharing(&given) { $0[kind].take() } }
        }
    }

    /// The numbers `write` gave, which did not commit. When the file cannot be written, they stay
    /// gaps: given back here alone, another process could have given them too.
    func giveBack(_ numbers: [(NumberedKind, Int)]) {
        counters.withLock { counters in
            _ = try? file.update { given in
                counters.sharing(&given) { counters in
                    for (kind, number) in numbers { counters[kind].giveBack(number) }
                }
            }
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
