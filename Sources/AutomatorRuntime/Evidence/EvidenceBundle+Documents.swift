import Foundation

/// The bundle's files for the people it is handed to (outside counsel, HR), who have no Automator:
/// `journal.txt`, the journal as they read it; `SHA256SUMS`, every other file's hash for
/// `sha256sum -c`; and `README.txt`, what the bundle holds and how to check it with OpenSSL and
/// sha256sum. The signed manifest lists their hashes (`documents`), so they are part of the record.
extension EvidenceBundle {
    static let readableJournalPath = "journal.txt"
    static let checksumsPath = "SHA256SUMS"
    static let readmePath = "README.txt"

    /// What the bundle holds for people beside the evidence and `journal.json`: each one's path and
    /// content. `SHA256SUMS` covers the others, the evidence and `journal.json`.
    static func documents(of incident: Incident, files: [Evidence], journal: [JournalEntry], journalJSON: [UInt8],
                          broken: JournalVerification.Problem?, publicKey: [UInt8], exportedAt: Date,
                          by actor: String) -> [(path: String, bytes: [UInt8])]
    {
        let readable = Array(readableJournal(of: incident, journal, exportedAt: exportedAt).utf8)
        let readme = Array(self.readme(of: incident, files: files, entries: journal.count, broken: broken,
                                       publicKey: publicKey, exportedAt: exportedAt, by: actor).utf8)
        let hashed = files.map { (path(of: $0), $0.hashes.sha256) }
            + [(journalPath, FileHashes(journalJSON).sha256), (readableJournalPath, FileHashes(readable).sha256),
               (readmePath, FileHashes(readme).sha256)]
        return [(readableJournalPath, readable), (readmePath, readme),
                (checksumsPath, Array(checksums(hashed).utf8))]
    }

    /// The journal, a line per entry (time, actor, kind, text; a text's further lines indented), under
    /// a heading that says the times are UTC. What would act on a terminal is escaped.
    static func readableJournal(of incident: Incident, _ journal: [JournalEntry], exportedAt: Date) -> String {
        let heading = "\(headline(incident))\nJournal as exported \(utc(exportedAt)): "
            + "\(journal.count.counted("entry", "entries")), every time in UTC.\n\n"
        let rows = [["TIME (UTC)", "ACTOR", "KIND", "TEXT"]] + journal.map { [utc($0.at, zone: false), $0.actor, $0.kind.rawValue, $0.text] }
        return VisibleText.escaped(heading + TextTable.render(rows)) + "\n"
    }

    /// `sha256sum` lines: `HASH  PATH`. A path with a newline is written as sha256sum does, the
    /// line starting with a backslash and the newline escaped (a name is the collector's to choose).
    static func checksums(_ files: [(path: String, sha256: String)]) -> String {
        files.map { path, sha256 in
            let escaped = path.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
                .replacingOccurrences(of: "\r", with: "\\r")
            return (escaped == path ? "" : "\\") + "\(sha256)  \(escaped)\n"
        }
        .joined()
    }

    static func readme(of incident: Incident, files: [Evidence], entries: Int, broken: JournalVerification.Problem?,
                       publicKey: [UInt8], exportedAt: Date, by actor: String) -> String
    {
        let key = Data(publicKey).base64EncodedString()
        let journal = broken.map { "It did NOT verify when exported: \($0). Read it as a record that was changed." }
            ?? "It verified when exported: no entry was changed, removed or reordered since it was written."
        return VisibleText.escaped("""
            \(headline(incident))
            Evidence bundle exported \(utc(exportedAt)) by \(actor), with Automator.
            Every time in this bundle is in UTC.

            What it holds
              evidence/EV-.../NAME  the evidence, byte for byte as collected: \(files.count.counted("file"))
              journal.txt           the incident's journal, \(entries.counted("entry", "entries")), to read
              journal.json          the same entries, for programs
              manifest.json         every file's size, SHA-256, SHA-1 and MD5, who collected it, and its
                                    chain of custody (added, viewed, exported: who and when)
              manifest.sig          manifest.json signed (Ed25519) by the key
                                      \(key)
              SHA256SUMS            the SHA-256 of each file above but manifest.json and manifest.sig
              README.txt            this file

            \(journal)

            How to check it, without Automator, in a shell in the folder it was unzipped to:

            1. The signature (OpenSSL 3; prints "Signature Verified Successfully"):

                 grep -o '"signature":"[^"]*"' manifest.sig | cut -d'"' -f4 | base64 -d > signature.bin
                 { printf '\\060\\052\\060\\005\\006\\003\\053\\145\\160\\003\\041\\000'
                   grep -o '"public_key":"[^"]*"' manifest.sig | cut -d'"' -f4 | base64 -d; } > key.der
                 openssl pkeyutl -verify -pubin -keyform DER -inkey key.der -rawin -in manifest.json -sigfile signature.bin

               The key must be the one the sender gave you apart from this bundle (a ticket, a call):
               anyone can sign a bundle with a key of their own.

            2. SHA256SUMS is the one signed: the hash `sha256sum SHA256SUMS` prints is the "sha256" that
               manifest.json gives under "documents" for SHA256SUMS.

            3. Every file (prints OK for each; macOS: shasum -a 256 -c SHA256SUMS):

                 sha256sum -c SHA256SUMS

            Anyone with Automator checks all three at once: automator evidence verify BUNDLE.zip --public-key \(key)

            """)
    }

    /// `INC-7: TITLE`, the title on one line (`\n` for its line breaks): it is often an alert's, and
    /// on lines of its own it wrote a section of the README's (other steps to check the bundle,
    /// commands to paste in a shell) or rows of the journal's table above the real ones.
    private static func headline(_ incident: Incident) -> String {
        "\(incident.id): " + VisibleText.escaped(incident.title, as: .name)
    }

    /// `2026-11-30 23:59:24 UTC` (`2026-11-30 23:59:24` without the zone, in a column headed UTC).
    private static func utc(_ date: Date, zone: Bool = true) -> String {
        let iso = date.formatted(Date.ISO8601FormatStyle())
        return String(iso.prefix(19)).replacingOccurrences(of: "T", with: " ") + (zone ? " UTC" : "")
    }
}
