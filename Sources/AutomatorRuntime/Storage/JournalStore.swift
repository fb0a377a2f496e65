public import Foundation

/// The journal's tamper evidence in the store: verification of its hash chains, and the signed
/// checkpoints that fix the chain at a sequence (`JournalChain`).
public protocol JournalStore: IncidentStore {
    /// Recomputes the hash chains of the whole journal, or of one incident's entries, and checks
    /// every checkpoint, and the whole journal against what a person kept outside the store;
    /// stops at the first broken entry.
    func verifyJournal(of incident: IncidentID?, expecting kept: JournalKept) async throws(StoreError)
        -> JournalVerification

    /// The last link of the journal's chain (the last entry, once its transaction committed): its
    /// sequence and the chain there; nil for an empty journal.
    func journalHead() async throws(StoreError) -> (sequence: Int64, chain: [UInt8])?

    func journalCheckpoints() async throws(StoreError) -> [JournalCheckpoint]
}

extension JournalStore {
    public func verifyJournal(of incident: IncidentID?) async throws(StoreError) -> JournalVerification {
        try await verifyJournal(of: incident, expecting: JournalKept())
    }
}

/// What a person kept where the data folder's users cannot change it, as `journal checkpoint`
/// prints it: whoever holds the folder can delete the stored checkpoints with the entries after
/// them, or sign new ones with a key of their own, and only a copy kept elsewhere shows it.
public struct JournalKept: Sendable, Hashable {
    /// The signing key's public half: every stored checkpoint must be signed with it (nil: the
    /// data folder's key, when it has one).
    public var publicKey: [UInt8]?
    /// Checkpoints (a sequence and the chain there) the journal must still hold.
    public var checkpoints: [Anchor] = []

    public struct Anchor: Sendable, Hashable {
        public var sequence: Int64
        public var chain: [UInt8]

        public init(sequence: Int64, chain: [UInt8]) {
            self.sequence = sequence
            self.chain = chain
        }

        /// `1234:9f86d0…` (the sequence, then the chain's 64 hexadecimal digits); nil otherwise.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let sequence = Int64(parts[0]), sequence > 0, parts[1].utf8.count == 64,
                  let chain = FileHashes.bytes(hex: String(parts[1]))
            else { return nil }
            self.init(sequence: sequence, chain: chain)
        }

        public var description: String { "\(sequence):\(FileHashes.hex(chain))" }
    }

    public init(publicKey: [UInt8]? = nil, checkpoints: [Anchor] = []) {
        self.publicKey = publicKey
        self.checkpoints = checkpoints
    }
}

/// A signature over the journal's chain at a sequence: removing entries after it, or rewriting
/// any before it, no longer matches it.
public struct JournalCheckpoint: Sendable, Hashable {
    public var sequence: Int64
    public var chain: [UInt8]
    public var at: Date
    /// Ed25519, raw.
    public var publicKey: [UInt8]
    public var signature: [UInt8]

    public init(sequence: Int64, chain: [UInt8], at: Date, publicKey: [UInt8], signature: [UInt8]) {
        self.sequence = sequence
        self.chain = chain
        self.at = at.roundedToMilliseconds
        self.publicKey = publicKey
        self.signature = signature
    }

    /// What is signed.
    public static func message(sequence: Int64, chain: [UInt8], at: Date) -> [UInt8] {
        Array("automator journal checkpoint\n\(sequence)\n\(FileHashes.hex(chain))\n\(at.millisecondsSince1970)\n".utf8)
    }
}

/// What `verifyJournal` found.
public struct JournalVerification: Sendable, Hashable {
    public var entries = 0
    public var checkpoints = 0
    /// The newest stored checkpoint that verified.
    public var lastCheckpoint: JournalCheckpoint?
    /// The first broken entry or checkpoint; nil when everything verified.
    public var problem: Problem?

    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        /// The entry (or the checkpoint's sequence) where the journal breaks.
        public var sequence: Int64
        public var incident: IncidentID?
        public var reason: String

        public var description: String {
            "journal entry \(sequence)" + (incident.map { " (\($0))" } ?? "") + ": " + reason
        }
    }

    public init() {}
}

/// Walks the journal in sequence order and finds the first entry whose hashes do not follow.
struct JournalVerifier {
    private var heads: [Int: JournalHash] = [:]
    private var chain = JournalHash.origin
    private var lastSequence: Int64 = 0
    /// The entries after the last link: the first one's sequence, and their hashes.
    private var unlinked: (first: Int64, hashes: [UInt8])?
    /// Verifying one incident: its entries' chain positions are not all seen.
    private let wholeJournal: Bool
    private(set) var verification = JournalVerification()

    init(wholeJournal: Bool) { self.wholeJournal = wholeJournal }

    /// Checks the next entry; false once one is broken.
    mutating func check(_ entry: JournalChain.Stored, hash storedHash: Data?, chain storedChain: Data?) -> Bool {
        let incident = IncidentID(entry.incident)
        func broken(_ reason: String, at sequence: Int64 = entry.sequence) -> Bool {
            verification.problem = .init(sequence: sequence, incident: incident, reason: reason)
            return false
        }
        if wholeJournal, entry.sequence != lastSequence + 1 {
            return broken("the entries \(lastSequence + 1) to \(entry.sequence - 1) before it are missing: removed")
        }
        lastSequence = entry.sequence
        guard let storedHash else { return broken("it has no hash: written outside Automator") }
        let hash = JournalChain.hash(entry, after: heads[entry.incident] ?? .origin)
        guard JournalHash(storedHash) == hash else {
            return broken("its content does not match its hash: it was changed after it was written, or an entry "
                + "before it in \(incident) was removed or changed")
        }
        heads[entry.incident] = hash
        verification.entries += 1
        guard wholeJournal else { return true }
        var link = unlinked ?? (entry.sequence, [])
        hash.withUnsafeBytes { link.hashes.append(contentsOf: $0) }
        guard let storedChain else {
            unlinked = link
            return true
        }
        unlinked = nil
        let linked = JournalChain.chain(link.hashes, after: chain)
        guard JournalHash(storedChain) == linked else {
            verification.entries -= Int(entry.sequence - link.first + 1)
            guard link.first == entry.sequence else {
                verification.problem = .init(sequence: link.first, incident: nil, reason: "the journal's chain breaks "
                    + "at the link of the entries \(link.first) to \(entry.sequence): one of them or an entry before "
                    + "them was removed, inserted or changed")
                return false
            }
            return broken("the journal's chain breaks here: an entry before it was removed, inserted or changed")
        }
        chain = linked
        return true
    }

    /// After the last entry: every entry of the whole journal is in a link (each transaction ends
    /// with one), so entries after the last are an end cut off or entries added outside Automator.
    mutating func finish() -> Bool {
        guard let unlinked else { return true }
        verification.entries -= Int(lastSequence - unlinked.first + 1)
        verification.problem = .init(sequence: unlinked.first, incident: nil, reason: "the entries \(unlinked.first) to "
            + "\(lastSequence) are not in the journal's chain: its end was cut off, or they were added outside Automator")
        return false
    }

    /// Checks a checkpoint against the chain stored at its sequence (nil when no entry has it).
    ///
    /// - Parameters:
    ///   - key: the public key it must be signed with, and where that key comes from.
    mutating func check(_ checkpoint: JournalCheckpoint, chainThere: [UInt8]?, trusted key: TrustedKey?) -> Bool
    {
        func broken(_ reason: String) -> Bool {
            verification.problem = .init(sequence: checkpoint.sequence, incident: nil, reason: "the checkpoint of "
                + "\(JSONText.time(checkpoint.at).dropFirst().dropLast()) " + reason)
            return false
        }
        guard JournalSignature.isValid(checkpoint) else { return broken("has a bad signature: it was forged or changed") }
        if let key, !key.signed(checkpoint) { return broken("is signed by another key than \(key.origin)") }
        guard let chainThere else { return broken("covers entries that are gone: the journal was cut after it") }
        guard chainThere == checkpoint.chain else { return broken("no longer matches: the journal was rewritten before it") }
        verification.checkpoints += 1
        verification.lastCheckpoint = checkpoint
        return true
    }

    /// Checks a checkpoint a person kept against the chain stored at its sequence.
    mutating func check(kept anchor: JournalKept.Anchor, chainThere: [UInt8]?) -> Bool {
        func broken(_ reason: String) -> Bool {
            verification.problem = .init(sequence: anchor.sequence, incident: nil, reason: "the kept checkpoint " + reason)
            return false
        }
        guard let chainThere else {
            return broken("covers entries that are gone: the journal was cut after it (its stored checkpoints too, "
                + "if it shows none)")
        }
        guard chainThere == anchor.chain else { return broken("no longer matches: the journal was rewritten before it") }
        return true
    }

    /// The key stored checkpoints must be signed with, and the keys it replaced (`JournalRetiredKey`),
    /// whose checkpoints are accepted up to the last each signed.
    struct TrustedKey {
        var key: [UInt8]
        var origin: String
        var retired: [JournalRetiredKey]

        func signed(_ checkpoint: JournalCheckpoint) -> Bool {
            checkpoint.publicKey == key || retired.contains {
                $0.publicKey == Data(checkpoint.publicKey) && checkpoint.sequence <= $0.through
            }
        }
    }

    /// The key stored checkpoints must be signed with: the kept one, else the data folder's; with
    /// the keys the folder retired either way.
    static func trustedKey(kept: JournalKept, folder: String?) throws(StoreError) -> TrustedKey? {
        let retired = try folder.map { folder throws(StoreError) in try JournalRetiredKey.load(from: folder) } ?? []
        if let key = kept.publicKey { return TrustedKey(key: key, origin: "the public key given", retired: retired) }
        return try folder.flatMap { folder throws(StoreError) in try JournalSignature.load(from: folder) }
            .map { TrustedKey(key: $0.publicKey, origin: "the data folder's", retired: retired) }
    }
}
