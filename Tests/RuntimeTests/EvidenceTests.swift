@testable import AutomatorRuntime
import Foundation
import Testing

@Suite("Evidence: the vault by content, custody, the signed bundle and its verification", .timeLimit(.minutes(1)))
struct EvidenceTests {
    /// A store with INC-1, and its evidence service.
    static func service(in folder: ScratchFolder) async throws -> EvidenceService {
        let store = try SQLiteStore(folder: folder.path)
        try await store.write(.createIncident(IncidentDraft(title: "Phish", type: "phishing", severity: .high)
            .incident(IncidentID(1), at: Date())))
        return EvidenceService(store: store, dataFolder: folder.path)
    }

    @Test("The same content is kept once, under its SHA-256; each addition is a record, journaled, with custody")
    func vault() async throws {
        let folder = try ScratchFolder()
        let service = try await Self.service(in: folder)
        let file = folder.path + "/mail.eml"
        try "Subject: invoice\n\nclick here\n".write(toFile: file, atomically: true, encoding: .utf8)
        let first = try await service.add(file: file, to: IncidentID(1), description: "reported", source: "cli", by: "cli:alice")
        let second = try await service.add(bytes: Array("Subject: invoice\n\nclick here\n".utf8), to: IncidentID(1),
                                           name: "copy.eml", source: "chat", by: "slack:bob")
        #expect(first.hashes == second.hashes && first.id != second.id)
        #expect(first.hashes == FileHashes(Array("Subject: invoice\n\nclick here\n".utf8)))
        let objects = try FileManager.default.subpathsOfDirectory(atPath: folder.path + "/evidence/objects")
            .filter { !$0.hasSuffix("/") && $0.count > 3 }
        #expect(objects == [String(first.hashes.sha256.prefix(2)) + "/" + first.hashes.sha256.dropFirst(2)])

        let (seen, custody) = try await service.get(first.id, by: "cli:carol")
        #expect(seen == first)
        #expect(custody.map { "\($0.action.rawValue) \($0.actor)" } == ["added cli:alice", "viewed cli:carol"])
        let journal = try await service.store.journal(of: IncidentID(1))
        #expect(journal.filter { $0.kind == .evidence }.map(\.actor) == ["cli:alice", "slack:bob"])
        #expect(try await service.store.verifyJournal(of: nil).problem == nil)

        await #expect(throws: EvidenceError.self) {
            _ = try await service.add(file: file, to: IncidentID(9), source: "cli", by: "cli:alice")
        }
        await #expect(throws: EvidenceError.self) {
            _ = try await service.add(file: folder.path + "/missing", to: IncidentID(1), source: "cli", by: "cli:alice")
        }
    }

    @Test("A bundle verifies; a changed byte, an added or removed file, or a changed manifest is caught and named")
    func bundle() async throws {
        let folder = try ScratchFolder()
        let service = try await Self.service(in: folder)
        _ = try await service.add(bytes: Array("pcap bytes".utf8), to: IncidentID(1), name: "capture.pcap", source: "cli",
                                  by: "cli:alice")
        _ = try await service.add(bytes: Array("headers".utf8), to: IncidentID(1), name: "headers.txt", source: "cli",
                                  by: "cli:alice")
        let bundle = folder.path + "/INC-1.zip"
        #expect(try await service.export(IncidentID(1), to: bundle, by: "cli:alice") == 2)
        let verified = try EvidenceBundle.verify(bundle)
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
        #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(changed) }
        do { _ = try EvidenceBundle.verify(changed) } catch {
            #expect(error.kind == .tampered && error.description.contains("capture.pcap differs from the manifest"))
        }

        // The manifest changed to match: its signature no longer does.
        bytes = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        let name = try #require(Self.find(Array("\"title\" : \"Phish\"".utf8), in: bytes))
        bytes[name + 12] = UInt8(ascii: "F")
        try Data(bytes).write(to: URL(fileURLWithPath: changed))
        #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(changed) }
        do { _ = try EvidenceBundle.verify(changed) } catch {
            #expect(error.description.contains("signature does not match"))
        }
        #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(folder.path + "/nothing.zip") }

        // Repacked with a file more, or one less.
        let original = try ZipArchive.Reader(path: bundle)
        for (name, keep, added, reason) in [("added.zip", { (_: String) in true }, true, "is not in the manifest"),
                                            ("removed.zip", { !$0.hasSuffix("capture.pcap") }, false, "is missing")] {
            let writer = try ZipArchive.Writer(path: folder.path + "/" + name)
            for entry in original.entries where keep(entry.name) {
                try writer.add(entry.name, bytes: try #require(try original.bytes(of: entry.name)))
            }
            if added { try writer.add("evidence/EV-000000000000/planted.exe", bytes: Array("MZ".utf8)) }
            try writer.finish()
            #expect(throws: EvidenceError.self) { try EvidenceBundle.verify(folder.path + "/" + name) }
            do { _ = try EvidenceBundle.verify(folder.path + "/" + name) } catch {
                #expect(error.description.contains(reason), "\(error)")
            }
        }
    }

    @Test("Scripts take files only from the inbox: no path out of it, not even through a link")
    func inbox() throws {
        let folder = try ScratchFolder()
        let vault = EvidenceVault(dataFolder: folder.path)
        try FileManager.default.createDirectory(atPath: vault.inbox, withIntermediateDirectories: true)
        try "x".write(toFile: vault.inbox + "/dump.bin", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: vault.inbox + "/passwd", withDestinationPath: "/etc/passwd")
        #expect(try vault.inboxFile("dump.bin").hasSuffix("/evidence/inbox/dump.bin"))
        for escape in ["../../automator.sqlite", "/etc/passwd", "passwd", "sub/../../x"] {
            #expect(throws: EvidenceError.self, "\(escape)") { try vault.inboxFile(escape) }
        }
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        return (0...(haystack.count - needle.count)).first { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

@Suite("Evidence from playbooks: inc:evidence, exactly once across a restart", .timeLimit(.minutes(1)))
struct EvidenceModuleTests {
    /// The incident service of `folder`, whose playbook keeps evidence, then waits on a task.
    static func desk(_ folder: ScratchFolder) async throws -> IncidentService {
        let store = try SQLiteStore(folder: folder.path + "/data")
        let ledger = try await IncidentLedger(store: store)
        let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger),
                                         EvidenceModule(service: EvidenceService(store: store, dataFolder: folder.path + "/data"))]
        let service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: folder.path + "/scripts", modules: modules)
        try await service.start()
        return service
    }

    @Test("A playbook keeps data and an inbox file; replayed after a restart, it keeps nothing twice")
    func playbook() async throws {
        let folder = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/scripts/playbooks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: folder.path + "/data/evidence/inbox", withIntermediateDirectories: true)
        try "collected by the EDR".write(toFile: folder.path + "/data/evidence/inbox/triage.zip", atomically: true,
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
        var service = try await Self.desk(folder)
        let created = try await service.create(IncidentDraft(title: "Dropper", type: "malware", severity: .high), by: "test")
        let run = try #require(created.run)
        var task: IncidentTask?
        for _ in 0..<500 where task == nil {
            task = try await service.store.listTasks(TaskQuery(incident: created.incident.id)).first
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(task != nil)
        await service.shutdown()

        service = try await Self.desk(folder)
        _ = try await service.ledger.complete(try #require(task).id, answer: "", by: "test")
        await service.runs.waitForEnd(run.id)
        #expect(try await service.runs.run(run.id)?.status == .completed)
        let store = try #require(service.store as? SQLiteStore)
        let kept = try await store.evidenceList(of: created.incident.id)
        #expect(kept.map(\.name) == ["headers.txt", "triage.zip"])
        #expect(kept.first?.tags == ["mail"] && kept.last?.description == "EDR package")
        #expect(kept.allSatisfy { $0.collectedBy == "playbook \(run.id)" })
        let notes = try await store.journal(of: created.incident.id).filter { $0.kind == .note }
        #expect(notes.map(\.text) == [FileHashes(Array("Received: from evil".utf8)).sha256 + " triage.zip 2"])
        await service.shutdown()
    }
}
