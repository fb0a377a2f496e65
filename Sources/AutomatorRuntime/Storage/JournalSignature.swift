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

    /// The folder's key, made now if it has none.
    public static func loadOrCreate(in folder: String) throws(StoreError) -> JournalSignature {
        if let existing = try load(from: folder) { return existing }
        let key = Curve25519.Signing.PrivateKey()
        let path = path(in: folder)
        guard FileManager.default.createFile(atPath: path, contents: key.rawRepresentation,
                                             attributes: [.posixPermissions: 0o600])
        else { throw StoreError.signingKey(path, "cannot be written: check the data folder's permissions") }
        return JournalSignature(key: key)
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
