import Crypto

/// One run's recorded host calls: those of its earlier lives, handed back in order while the
/// run replays them, and the new ones, to be written to the store.
///
/// Calls are numbered from 1 in the order the script makes them. Below the recorded count a
/// call returns its record, if it has the same name and arguments; the first call past it
/// acts, and is recorded. See docs/ARCHITECTURE.md, "Durable replay".
final class RunRecording {
    /// What to do for the call the script is making.
    enum Call {
        /// Return the recorded outcome (encoded by `RecordCoding`); do not act.
        case replay(HostCallRecord)
        /// Act, then record the outcome under this sequence number.
        case live(sequence: Int)
    }

    let runID: RunID
    private let records: [HostCallRecord]
    private var made = 0
    /// Records of calls that do not wait (the clock, a random seed), not yet written: they are
    /// written with the next waiting call, before it acts, so that the outside world never sees
    /// a value the store has not kept.
    var unwritten: [HostCallRecord] = []
    /// What the store must keep of effects the run has seen the outcome of (an action's result and
    /// journal entry, `HostWait.act`), not written yet: it goes with the unwritten records.
    var unwrittenChanges: [StoreWrite] = []
    /// Why the run no longer matches its record, once it does not.
    private(set) var divergence: String?

    /// - Parameter records: the run's recorded calls, by sequence from 1 (as the store returns
    ///   them); empty for a new run.
    init(runID: RunID, records: [HostCallRecord]) {
        self.runID = runID
        self.records = records
    }

    /// The number the next call gets: with the run's id, an idempotency key that its replays share.
    var nextSequence: Int { made + 1 }

    /// Whether calls remain to be replayed.
    var isReplaying: Bool { made < records.count }

    /// Whether the next call, `name` with these arguments, is the one the record has next: a
    /// replay hands its record back, so it need not check what the record already holds.
    func replays(_ name: String, arguments digest: String) -> Bool {
        made < records.count && records[made].name == name && records[made].argumentsDigest == digest
    }

    /// Whether the record has another call where `name` comes: one made by a version that did not
    /// record `name` (`ModuleTable.recordedCheck`), which then acts unrecorded and unnumbered, as
    /// it did when the record was made, and the calls after it keep their numbers.
    func predates(_ name: String) -> Bool {
        made < records.count && records[made].name != name
    }

    /// Numbers the next call; nil (and `divergence` set) if it differs from its record.
    func next(_ name: String, arguments digest: String) -> Call? {
        made += 1
        guard made <= records.count else { return .live(sequence: made) }
        let record = records[made - 1]
        guard record.sequence == made else {
            divergence = "the record has no call \(made) (it jumps to \(record.sequence)): the store was changed by hand"
            return nil
        }
        guard record.name == name, record.argumentsDigest == digest else {
            divergence = record.name == name
                ? "call \(made) (\(name)) has other arguments than when it was recorded"
                : "call \(made) is \(name), where the record has \(record.name)"
            return nil
        }
        return .replay(record)
    }

    /// Whether changes or records wait to be written.
    var hasUnwritten: Bool { !unwritten.isEmpty || !unwrittenChanges.isEmpty }

    /// The changes and records not written yet, as writes to commit together (none when there are
    /// none), and forgets them: they are written before the run's next effect, or with its end.
    func takeUnwritten(adding records: [HostCallRecord] = []) -> [StoreWrite] {
        let records = unwritten + records
        var writes = unwrittenChanges
        if !records.isEmpty { writes.append(.appendHostCalls(records)) }
        unwritten = []
        unwrittenChanges = []
        return writes
    }

    /// Checks, when the run has ended, that it made every recorded call.
    func checkEnd() {
        guard divergence == nil, isReplaying else { return }
        divergence = "the run ended after \(made) calls, where the record has \(records.count) "
            + "(the next one is \(records[made].name))"
    }

    func record(_ sequence: Int, name: String, digest: String, outcome: Result<[LuaValue], HostError>) -> HostCallRecord {
        HostCallRecord(runID: runID, sequence: sequence, name: name, argumentsDigest: digest,
                       result: RecordCoding.encode(outcome))
    }

    /// The digest of a call with no arguments.
    static let noArguments = digest(of: RecordCoding.encodeArguments([], typeNames: []))

    /// SHA-256, in hexadecimal, of the arguments' canonical encoding.
    static func digest(of arguments: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: arguments) {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
