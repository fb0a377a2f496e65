public import Foundation
import Crypto

/// The journal's tamper evidence. Each entry's `hash` covers its content and the hash of the
/// entry before it in its incident's journal; its `chain` covers its hash and the chain of the
/// entry before it in the whole journal. Changing, removing or reordering an entry breaks the
/// hashes of that incident from there on, and the whole journal's chain from there on: the
/// first entry whose hash does not match is where it was touched.
///
/// A signed checkpoint (`JournalCheckpoint`) fixes the chain at a sequence, so that removing the
/// last entries (which leaves a shorter chain that still verifies) is caught too.
public enum JournalChain {
    /// What comes before the first entry, of an incident or of the journal.
    public static let origin = [UInt8](repeating: 0, count: 32)

    /// The hash of an entry, after `previous` (the hash of its incident's entry before it).
    public static func hash(of entry: JournalEntry, after previous: [UInt8]) -> [UInt8] {
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
    /// UTF-8), so that no two entries encode alike. Fed to the hasher field by field: no text is
    /// built, for the append path's sake.
    static func hash(_ entry: Stored, after previous: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        func add(_ number: Int64) { withUnsafeBytes(of: number.littleEndian) { hasher.update(bufferPointer: $0) } }
        func add(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                add(Int64(bytes.count))
                hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
            }
        }
        add(entry.sequence)
        add(Int64(entry.incident))
        add(entry.at)
        add(entry.actor)
        add(entry.kind)
        add(entry.text)
        return Array(hasher.finalize())
    }

    /// The whole journal's chain at an entry whose hash is `hash`, after `previous` (the chain of
    /// the entry before it).
    public static func chain(_ hash: [UInt8], after previous: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: hash)
        return Array(hasher.finalize())
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
