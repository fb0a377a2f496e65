public import Foundation
import Crypto

/// The data folder's Ed25519 key for journal checkpoints: `journal-signing.key` (the raw private
/// key, mode 0600), made on first use. Whoever can read it can sign: keep the folder private,
/// or keep a copy of the public key elsewhere to check checkpoints against.
public struct JournalSignature: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    public static func path(in folder: String) -> String { folder + "/journal-signing.key" }

    /// The folder's key, or nil if it has none.
    public static func load(from folder: String) throws(StoreError) -> JournalSignature? {
        let path = path(in: folder)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: data) else {
            throw StoreError.signingKey(path, "is not an Ed25519 private key (32 bytes): restore it from a backup, "
                + "or remove it to start signing with a new one")
        }
        return JournalSignature(key: key)
    }

    /// The folder's key, made now if it has none and the journal holds no checkpoint.
    ///
    /// Checkpoints with no key in the folder are a folder restored without it (or a key deleted):
    /// a key made silently would sign the same journal with a second key from then on, and its
    /// checkpoints would no longer verify against each other's. That takes a person's decision
    /// (`replaceLost`).
    ///
    /// - Throws: `StoreError.signingKey` when the key is missing and checkpoints exist, saying
    ///   where a backup holds it and how to start a new key on purpose.
    public static func loadOrCreate(in folder: String, for journal: any JournalStore) async throws(StoreError)
        -> JournalSignature
    {
        if let existing = try load(from: folder) { return existing }
        let checkpoints = try await journal.journalCheckpoints()
        if let last = checkpoints.last {
            throw StoreError.signingKey(path(in: folder), "is missing, but the journal holds "
                + "\(checkpoints.count.counted("checkpoint")) signed with the key "
                + "\(Data(last.publicKey).base64EncodedString()) (the last at entry \(last.sequence)): a key made now "
                + "would sign the same journal with another. Restore the file from this folder's backup (automator store "
                + "backup copies it as journal-signing.key into the backup folder); a worker sharing a PostgreSQL store "
                + "takes a copy of the key of the worker that signed them; if it is lost, start a new key on purpose: "
                + "automator journal checkpoint --new-key --data \(folder)")
        }
        return try create(in: folder)
    }

    /// A new key in place of a lost one: the keys of the journal's checkpoints are retired
    /// (`JournalRetiredKey`: their checkpoints still verify, up to the last each signed), then
    /// the new key is made.
    ///
    /// - Returns: the new key, and the keys it retired.
    /// - Throws: `StoreError.signingKey` when the folder has a key: it is not lost.
    public static func replaceLost(in folder: String, for journal: any JournalStore, by actor: String,
                                   at now: Date = Date()) async throws(StoreError)
        -> (signature: JournalSignature, retired: [JournalRetiredKey])
    {
        try refuseBackup(folder)
        guard try load(from: folder) == nil else {
            throw StoreError.signingKey(path(in: folder), "exists: a new key replaces a lost one. To stop trusting "
                + "this one, move it out of the folder first; its checkpoints are then retired with it")
        }
        let known = Set(try JournalRetiredKey.load(from: folder).map(\.publicKey))
        var retired: [JournalRetiredKey] = []
        for checkpoint in try await journal.journalCheckpoints() where !known.contains(Data(checkpoint.publicKey)) {
            let key = Data(checkpoint.publicKey)
            if let index = retired.firstIndex(where: { $0.publicKey == key }) {
                retired[index].through = max(retired[index].through, checkpoint.sequence)
            } else {
                retired.append(JournalRetiredKey(publicKey: key, through: checkpoint.sequence, retiredAt: now,
                                                 retiredBy: actor))
            }
        }
        try JournalRetiredKey.record(retired, in: folder)
        return (try create(in: folder), retired)
    }

    private static func create(in folder: String) throws(StoreError) -> JournalSignature {
        try refuseBackup(folder)
        let key = Curve25519.Signing.PrivateKey()
        let path = path(in: folder)
        guard FileManager.default.createFile(atPath: path, contents: key.rawRepresentation,
                                             attributes: [.posixPermissions: 0o600])
        else { throw StoreError.signingKey(path, "cannot be written: check the data folder's permissions") }
        return JournalSignature(key: key)
    }

    /// A backup is never written (`SQLiteStore` refuses it too), its keys included: the store's
    /// refusal would come only after a key made or retired in it.
    private static func refuseBackup(_ folder: String) throws(StoreError) {
        if let mark = DataFolder.backup(folder) { throw .backupFolder(folder, mark: mark) }
    }

    public var publicKey: [UInt8] { Array(key.publicKey.rawRepresentation) }

    public func checkpoint(sequence: Int64, chain: [UInt8], at: Date = Date()) throws -> JournalCheckpoint {
        let at = at.roundedToMilliseconds
        let signature = try key.signature(for: JournalCheckpoint.message(sequence: sequence, chain: chain, at: at))
        return JournalCheckpoint(sequence: sequence, chain: chain, at: at, publicKey: publicKey, signature: Array(signature))
    }

    /// Signs any message (an evidence bundle's manifest).
    func sign(_ message: [UInt8]) throws -> [UInt8] { Array(try key.signature(for: message)) }

    static func isValid(_ checkpoint: JournalCheckpoint) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: checkpoint.publicKey) else { return false }
        return key.isValidSignature(checkpoint.signature,
                                    for: JournalCheckpoint.message(sequence: checkpoint.sequence, chain: checkpoint.chain,
                                                                   at: checkpoint.at))
    }
}
