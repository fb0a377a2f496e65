import Foundation

/// The journal's tamper evidence. Each entry's `hash` covers its content and the hash of the
/// entry before it in its incident's journal. The whole journal's `chain` is a link per
/// transaction, stored on its last entry: it covers the hashes of the transaction's entries and
/// the link before. Changing, removing or reordering an entry breaks the hashes of that
/// incident from there on, and the whole journal's chain from there on: the first entry whose
/// hash does not match is where it was touched.
///
/// A link per transaction rather than per entry: a per-entry chain cost a second SHA-256 and a
/// second blob on every append, 40% of an append's cost (JournalBenchmark), for no more
/// evidence, since a transaction's entries are written, and can be removed, only together. A
/// link of one entry is the per-entry chain of earlier versions, so their journals verify.
///
/// A signed checkpoint (`JournalCheckpoint`) fixes the chain at a sequence, so that removing the
/// last entries (which leaves a shorter chain that still verifies) is caught too.
public enum JournalChain {
    /// The hash of an entry, after `previous` (the hash of its incident's entry before it).
    public static func hash(of entry: JournalEntry, after previous: JournalHash) -> JournalHash {
        hash(Stored(sequence: entry.sequence, incident: entry.incident.number, at: entry.at.millisecondsSince1970,
                    actor: entry.actor, kind: entry.kind.rawValue, text: entry.text), after: previous)
    }

    /// An entry's fields as stored (a kind this version does not know hashes as written).
    public struct Stored: Sendable {
        public var sequence: Int64
        public var incident: Int
        public var at: Int64
        public var actor: String
        public var kind: String
        public var text: String
    }

    /// Every field is fixed-width (integers, 8 bytes little-endian) or length-prefixed (text, in
    /// UTF-8), so that no two entries encode alike. Encoded in one buffer (on the stack, for an
    /// entry of a usual size) and hashed at once: the append path runs this for every entry,
    /// and hashing field by field cost more than the hashing itself.
    static func hash(_ entry: Stored, after previous: JournalHash) -> JournalHash {
        let (actor, kind, text) = (entry.actor.utf8, entry.kind.utf8, entry.text.utf8)
        let size = 32 + 6 * 8 + actor.count + kind.count + text.count
        return withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
            var encoder = Encoder(buffer: buffer)
            previous.withUnsafeBytes { encoder.add($0) }
            encoder.add(entry.sequence)
            encoder.add(Int64(entry.incident))
            encoder.add(entry.at)
            encoder.add(actor)
            encoder.add(kind)
            encoder.add(text)
            return JournalHash(digesting: UnsafeRawBufferPointer(buffer))
        }
    }

    /// Writes fields one after another into a buffer of the right size.
    private struct Encoder {
        var buffer: UnsafeMutableRawBufferPointer
        var offset = 0

        mutating func add(_ bytes: UnsafeRawBufferPointer) {
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + bytes.count]).copyMemory(from: bytes)
            offset += bytes.count
        }

        mutating func add(_ number: Int64) { withUnsafeBytes(of: number.littleEndian) { add($0) } }

        mutating func add(_ text: String.UTF8View) {
            add(Int64(text.count))
            if text.withContiguousStorageIfAvailable({ add(UnsafeRawBufferPointer($0)) }) == nil {
                Array(text).withUnsafeBytes { add($0) }
            }
        }
    }

    /// The whole journal's chain after a link's entries, whose hashes are `hashes` (one after the
    /// other, in sequence order), after `previous` (the link before).
    public static func chain(_ hashes: [UInt8], after previous: JournalHash) -> JournalHash {
        withUnsafeTemporaryAllocation(byteCount: 32 + hashes.count, alignment: 8) { buffer in
            previous.withUnsafeBytes { buffer.copyMemory(from: $0) }
            UnsafeMutableRawBufferPointer(rebasing: buffer[32...]).copyBytes(from: hashes)
            return JournalHash(digesting: UnsafeRawBufferPointer(buffer))
        }
    }
}
