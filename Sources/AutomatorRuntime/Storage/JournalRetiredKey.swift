public import Foundation

/// The keys a data folder signed the journal with before its current one, in
/// `journal-signing.retired` beside the key: written when a person starts a new key in place of a
/// lost one (`journal checkpoint --new-key`), so that the checkpoints the old key signed still
/// verify, up to where it stopped, and the change is on record with who made it and when.
public struct JournalRetiredKey: Sendable, Hashable, Codable {
    /// The retired key's public half (base64 in the file).
    public var publicKey: Data
    /// The last entry it signed: a checkpoint it signed after that is not accepted.
    public var through: Int64
    public var retiredAt: Date
    public var retiredBy: String

    public static func path(in folder: String) -> String { folder + "/journal-signing.retired" }

    /// The folder's retired keys, oldest first; none when it never changed key.
    public static func load(from folder: String) throws(StoreError) -> [JournalRetiredKey] {
        let path = path(in: folder)
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        do { return try decoder.decode([JournalRetiredKey].self, from: data) } catch {
            throw StoreError.signingKey(path, "cannot be read (\(error)): restore it from a backup with the key")
        }
    }

    /// Adds `keys` to the folder's retired keys.
    static func record(_ keys: [JournalRetiredKey], in folder: String) throws(StoreError) {
        guard !keys.isEmpty else { return }
        let path = path(in: folder)
        let all = try load(from: folder) + keys
        guard let data = try? encoder.encode(all),
              FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        else { throw StoreError.signingKey(path, "cannot be written: check the data folder's permissions") }
    }

    private static let encoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.dataEncodingStrategy = .base64
        return encoder
    }()

    private static let decoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
