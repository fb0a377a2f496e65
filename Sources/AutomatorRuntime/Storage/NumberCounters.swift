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
///
/// The file is a cache of the last numbers given; the database has the truth. When the file was
/// deleted or replaced under this process, the counters catch up with the highest numbers stored
/// before the file at the path is opened (made anew, if need be) and told them.
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

        mutating func catchUp(to given: (incident: Int, task: Int)) {
            incident.catchUp(to: given.incident)
            task.catchUp(to: given.task)
        }

        /// Caught up with the numbers other processes gave, then `change`d, the file told the last given.
        mutating func sharing<T>(_ given: inout (incident: Int, task: Int), _ change: (inout Counters) -> T) -> T {
            catchUp(to: given)
            let result = change(&self)
            given = (incident.last, task.last)
            return result
        }
    }

    private let state: Mutex<(counters: Counters, file: NumbersFile)>
    /// Reads the highest numbers stored.
    private let stored: @Sendable () throws(StoreError) -> (incident: Int, task: Int)

    /// - Parameter stored: reads the highest numbers stored, now and whenever the file was
    ///   deleted or replaced.
    init(file: sending NumbersFile, stored: @escaping @Sendable () throws(StoreError) -> (incident: Int, task: Int))
        throws(StoreError)
    {
        let highest = try stored()
        state = Mutex((Counters(incident: Counter(last: highest.incident), task: Counter(last: highest.task)), file))
        self.stored = stored
    }

    /// The next number of `kind`. The file's lock is taken inside the mutex and held for its read
    /// and write only: nothing waits on a reader, a writer or another task meanwhile. The database
    /// is read outside the mutex, for the same reason: the tasks holding its readers may be
    /// waiting on the mutex.
    func take(_ kind: NumberedKind) throws(StoreError) -> Int {
        var highest: (incident: Int, task: Int)?
        while true {
            let taken = try state.withLock { state throws(StoreError) -> Int? in
                if state.file.isReplaced {
                    guard let highest else { return nil }
                    state.file.close()
                    state.counters.catchUp(to: highest)
                }
                return try state.file.update { given in state.counters.sharing(&given) { $0[kind].take() } }
            }
            if let taken { return taken }
            highest = try stored()
        }
    }

    /// The numbers `write` gave, which did not commit. When the file cannot be written, or is no
    /// longer the one this process took them from, they stay gaps: given back here alone, another
    /// process could have given them too.
    func giveBack(_ numbers: [(NumberedKind, Int)]) {
        state.withLock { state in
            guard !state.file.isReplaced else { return }
            _ = try? state.file.update { given in
                state.counters.sharing(&given) { counters in
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
