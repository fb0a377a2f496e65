import CDigest
public import Foundation

/// A SHA-256 of the journal's chains (`JournalChain`): an entry's hash or a link of the whole
/// journal's chain. Held inline, 32 bytes in four words, so that it lives on the stack and in
/// the writer's remembered tip without an allocation: every append computes one and keeps it,
/// and as `Data` each cost an allocation, reference counting and exclusivity checks, more than
/// the hashing itself (JournalBenchmark).
public struct JournalHash: Equatable, Sendable {
    private var words: (UInt64, UInt64, UInt64, UInt64)

    /// All zeros: what comes before the first entry, of an incident or of the journal.
    public static let origin = JournalHash(words: (0, 0, 0, 0))

    private init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }

    /// The SHA-256 of `bytes`, in one call (`CDigest`): swift-crypto's `SHA256` cost three times
    /// the hashing here.
    init(digesting bytes: UnsafeRawBufferPointer) {
        words = (0, 0, 0, 0)
        Swift.withUnsafeMutableBytes(of: &words) {
            cdigest_sha256(bytes.baseAddress, bytes.count, $0.baseAddress?.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// A hash as stored; nil unless it is 32 bytes (a column written outside Automator).
    public init?(_ data: Data) {
        guard data.count == 32 else { return nil }
        words = (0, 0, 0, 0)
        // Not `copyBytes(to:)`: DataProtocol's generic copy took 40% of `journal verify`.
        Swift.withUnsafeMutableBytes(of: &words) { words in data.withUnsafeBytes { words.copyMemory(from: $0) } }
    }

    /// As stored: a BLOB in SQLite, a bytea in PostgreSQL.
    public var data: Data { withUnsafeBytes { Data($0) } }

    /// Its 32 bytes, valid inside `body` only.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: words, body)
    }

    public static func == (left: JournalHash, right: JournalHash) -> Bool { left.words == right.words }
}
