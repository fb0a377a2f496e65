import Foundation
import Crypto

/// An exported incident: a ZIP archive with its evidence files, its journal (`journal.json`, and
/// `journal.txt` to read), `manifest.json` (every file's size, SHA-256, SHA-1 and MD5, and its chain
/// of custody), `manifest.sig` (the manifest signed with the data folder's Ed25519 key), and for
/// people without Automator `SHA256SUMS` and a `README.txt` that says how to check it all with
/// OpenSSL and sha256sum. `automator evidence verify` checks it without the data folder.
public enum EvidenceBundle {
    static let manifestPath = "manifest.json"
    static let signaturePath = "manifest.sig"
    static let journalPath = "journal.json"
    /// Version 2 added the documents for people (`journal.txt`, `SHA256SUMS`, `README.txt`): a
    /// verifier of version 1 would call them added files, so the version says they belong.
    static let format = "automator-evidence-bundle/2"
    static let formats: Set<String> = ["automator-evidence-bundle/1", format]

    /// Where the evidence's content is in the bundle: under its name, each character that unzip would
    /// read as part of a path (`/`, `\`, `:`, NUL) written as `_`, and a name that unzip would rename
    /// (`.`, `..`, none) as `_` or `__`.
    static func path(of evidence: Evidence) -> String {
        let safe = String(evidence.name.map { "/\\:\u{0}".contains($0) ? "_" : $0 })
        let name = ["", ".", ".."].contains(safe) ? String(repeating: "_", count: max(safe.count, 1)) : safe
        return "evidence/\(evidence.id)/" + name
    }

    /// - Parameters:
    ///   - broken: where the incident's journal chain broke when it was exported; the manifest says
    ///     `"verified": false` and why, or `"verified": true`.
    ///   - documents: the files for people (`documents(of:…)`), listed with their hashes.
    static func manifest(of incident: Incident, files: [Evidence], custody: [String: [CustodyEvent]], journal: [UInt8],
                         entries: Int, broken: JournalVerification.Problem?, documents: [(path: String, bytes: [UInt8])],
                         exportedAt: Date, by actor: String) -> [UInt8]
    {
        var journalItem: [String: Any] = ["path": journalPath, "entries": entries, "sha256": FileHashes(journal).sha256,
                                          "verified": broken == nil]
        journalItem["broken"] = broken?.description
        let items: [[String: Any]] = files.map { file in
            [
                "id": file.id, "path": path(of: file), "name": file.name, "description": file.description,
                "source": file.source, "collected_by": file.collectedBy,
                "collected_at": JSONText.time(file.collectedAt).trimmingCharacters(in: ["\""]), "tags": file.tags,
                "size": file.size, "sha256": file.hashes.sha256, "sha1": file.hashes.sha1, "md5": file.hashes.md5,
                "custody": (custody[file.id] ?? []).map { event in
                    ["at": JSONText.time(event.at).trimmingCharacters(in: ["\""]), "actor": event.actor,
                     "action": event.action.rawValue, "detail": event.detail]
                },
            ]
        }
        let manifest: [String: Any] = [
            "format": format, "incident": incident.id.description, "title": incident.title,
            "exported_at": JSONText.time(exportedAt).trimmingCharacters(in: ["\""]), "exported_by": actor, "files": items,
            "journal": journalItem,
            "documents": documents.map { ["path": $0.path, "size": $0.bytes.count, "sha256": FileHashes($0.bytes).sha256] },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: manifest, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return Array(data)
    }

    static func sign(_ manifest: [UInt8], with signature: JournalSignature) throws -> [UInt8] {
        let signed: [String: String] = [
            "public_key": Data(signature.publicKey).base64EncodedString(),
            "signature": Data(try signature.sign(manifest)).base64EncodedString(),
        ]
        // Slashes unescaped, so that README.txt's grep and base64 -d read the key and signature as they are.
        return Array(try JSONSerialization.data(withJSONObject: signed, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// What `verify` found: the files checked, the key that signed, and the first problem.
    public struct Verification: Sendable {
        public var incident: String
        public var files: Int
        public var journalEntries: Int
        /// The signing key, base64: compare it with the one the data folder printed.
        public var publicKey: String
        /// How the archive differs from the one exported while every content matches the manifest
        /// (`4 entries compressed`), for people; nil when it does not.
        public var repacked: String?
        /// Where the journal's chain was broken when the bundle was exported (`--broken-journal`),
        /// as the signed manifest says; nil when it verified then.
        public var journalBroken: String?
    }

    /// Checks the signature, then every file's size and hashes against the manifest; throws
    /// `.tampered` naming the first file that differs, a file missing or one added (a second copy of
    /// an entry included, and an entry whose headers disagree on its name). A bundle zipped
    /// again (its entries deflated, folders' entries added) verifies, and says so in `repacked`:
    /// the signature covers the contents' hashes, never the container. `progress` is told the bytes
    /// checked so far, of all the entries'.
    public static func verify(_ path: LocalPath, progress: EvidenceProgress? = nil) throws(EvidenceError) -> Verification {
        let archive = try ZipArchive.Reader(path: path)
        func tampered(_ why: String) -> EvidenceError { EvidenceError(.tampered, "\(path) was tampered with: \(why)") }
        guard let manifestBytes = try archive.bytes(of: manifestPath),
              let signatureBytes = try archive.bytes(of: signaturePath)
        else { throw tampered("\(manifestPath) or \(signaturePath) is missing") }
        guard let signed = try? JSONSerialization.jsonObject(with: Data(signatureBytes)) as? [String: String],
              let keyText = signed["public_key"], let key = Data(base64Encoded: keyText),
              let signatureText = signed["signature"], let signature = Data(base64Encoded: signatureText),
              let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key),
              publicKey.isValidSignature(signature, for: Data(manifestBytes))
        else { throw tampered("the manifest's signature does not match it") }
        guard let manifest = try? JSONSerialization.jsonObject(with: Data(manifestBytes)) as? [String: Any],
              let version = manifest["format"] as? String, formats.contains(version),
              let files = manifest["files"] as? [[String: Any]],
              let journal = manifest["journal"] as? [String: Any]
        else { throw tampered("the manifest is not one Automator writes") }

        var expected: [String: (size: Int64, hashes: FileHashes)] = [:]
        for file in files {
            guard let path = file["path"] as? String, let size = (file["size"] as? NSNumber)?.int64Value,
                  let sha256 = file["sha256"] as? String, let sha1 = file["sha1"] as? String, let md5 = file["md5"] as? String
            else { throw tampered("the manifest lists a file without its hashes") }
            expected[path] = (size, FileHashes(md5: md5, sha1: sha1, sha256: sha256))
        }
        guard let journalHash = journal["sha256"] as? String else { throw tampered("the manifest has no journal hash") }
        var documents: [String: String] = [:]
        for document in manifest["documents"] as? [[String: Any]] ?? [] {
            guard let path = document["path"] as? String, let sha256 = document["sha256"] as? String
            else { throw tampered("the manifest lists a document without its hash") }
            documents[path] = sha256
        }
        if version == format, let missing = [readableJournalPath, readmePath, checksumsPath].first(where: { documents[$0] == nil }) {
            throw tampered("the manifest does not list \(missing)")
        }
        // A repack adds entries for the files' folders (`evidence/`); any other entry the manifest does not
        // list was added. The reader refused a second copy of an entry, so only the signed manifest is skipped.
        let folders = Set(expected.keys.flatMap { file in file.indices.filter { file[$0] == "/" }.map { String(file[...$0]) } })
        if let added = archive.entries.first(where: { $0.isFolder && !folders.contains($0.name) }) {
            throw tampered("\(added.name) is not in the manifest: it was added")
        }
        let checked = archive.entries.filter { ![manifestPath, signaturePath].contains($0.name) && !$0.isFolder }
        let total = checked.reduce(Int64(0)) { $0 &+ Int64(clamping: $1.size) }
        var done: Int64 = 0
        for entry in checked {
            var hasher = FileHashes.Hasher()
            var size: Int64 = 0
            try archive.content(of: entry) { chunk in
                hasher.update(chunk)
                size += Int64(chunk.count)
                done += Int64(chunk.count)
                progress?(done, max(total, done))
            }
            let hashes = hasher.finalize()
            if entry.name == journalPath {
                guard hashes.sha256 == journalHash else { throw tampered("\(journalPath) differs from the manifest's hash") }
                continue
            }
            if let want = documents.removeValue(forKey: entry.name) {
                guard hashes.sha256 == want else { throw tampered("\(entry.name) differs from the manifest's hash") }
                continue
            }
            guard let want = expected.removeValue(forKey: entry.name) else {
                throw tampered("\(entry.name) is not in the manifest: it was added")
            }
            guard want.size == size, want.hashes == hashes else {
                throw tampered("\(entry.name) differs from the manifest: sha256 \(hashes.sha256), expected \(want.hashes.sha256)")
            }
        }
        if let missing = (Array(expected.keys) + Array(documents.keys)).sorted().first { throw tampered("\(missing) is missing") }
        guard archive.entries.contains(where: { $0.name == journalPath }) else { throw tampered("\(journalPath) is missing") }
        return Verification(incident: manifest["incident"] as? String ?? "?", files: files.count,
                            journalEntries: (journal["entries"] as? NSNumber)?.intValue ?? 0, publicKey: keyText,
                            repacked: repacking(of: archive.entries),
                            journalBroken: journal["verified"] as? Bool == false ? journal["broken"] as? String ?? "" : nil)
    }

    /// What a repack changed in the container, for people: nil for the archive as exported.
    private static func repacking(of entries: [ZipArchive.Entry]) -> String? {
        let deflated = entries.count(where: \.isDeflated)
        let folders = entries.count(where: \.isFolder)
        let changes = [deflated > 0 ? "\(deflated.counted("entry", "entries")) compressed" : nil,
                       folders > 0 ? "\(folders.counted("folder entry", "folder entries")) added" : nil].compactMap { $0 }
        return changes.isEmpty ? nil : changes.joined(separator: ", ")
    }
}
