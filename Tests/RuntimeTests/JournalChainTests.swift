@_spi(Benchmarks) @testable import AutomatorRuntime
import Foundation
import GRDB
import Testing

@Suite("The journal's hash chains: a changed, removed or cut entry is named; signed checkpoints", .timeLimit(.minutes(1)))
struct JournalChainTests {
    /// A store with incidents INC-1 and INC-2 and `count` entries alternating between them.
    static func journal(_ count: Int, in folder: ScratchFolder) async throws -> SQLiteStore {
        let store = try SQLiteStore(folder: folder.path)
        for number in 1...2 {
            try await store.write(.createIncident(IncidentDraft(title: "Incident \(number)", type: "test", severity: .low)
                .incident(IncidentID(number), at: Date())))
        }
        for index in 1...count {
            try await store.write(.appendJournal([JournalEntry(incident: IncidentID(index % 2 + 1), actor: "cli:alice",
                                                               kind: .note, text: "note \(index)")]))
        }
        return store
    }

    /// Runs `sql` on the database file behind the store's back, as someone with the file would.
    static func tamper(_ folder: ScratchFolder, _ sql: String) throws {
        let queue = try DatabaseQueue(path: folder.path + "/automator.sqlite")
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }

    @Test("An entry's hash and chain are SHA-256 over the documented encoding: journals written before still verify")
    func encoding() {
        // Computed independently: sha256(32 zero bytes ‖ 1, 2, 1000 as int64 LE ‖ each text as
        // int64 LE length ‖ UTF-8), then sha256(32 zero bytes ‖ that hash).
        let entry = JournalChain.Stored(sequence: 1, incident: 2, at: 1000, actor: "api", kind: "note", text: "héllo")
        let hash = JournalChain.hash(entry, after: .origin)
        #expect(FileHashes.hex(hash.data) == "b92fa4b3edd6a7286b0b6bdd638773c1d3a1d91ec80598e9baf93647b42df54a")
        #expect(FileHashes.hex(JournalChain.chain(Array(hash.data), after: .origin).data)
            == "d2cc50686a251b325ac0b9c89823ca5c345fd1ffae428fb5035c68a3f7838ed8")
        // A text of 6,000 bytes, more than the encoding keeps on the stack.
        let long = JournalChain.Stored(sequence: 7, incident: 3, at: 1_700_000_000_000, actor: "playbook run-1", kind: "note",
                                       text: String(repeating: "é", count: 3000))
        #expect(FileHashes.hex(JournalChain.hash(long, after: .origin).data)
            == "e5a7fe64943762faa12451bc311fc5a0ff96429e5279c35a4463f57a21e4bf47")
    }

    @Test("An intact journal verifies, whole and by incident")
    func intact() async throws {
        let folder = try ScratchFolder()
        let store = try await Self.journal(20, in: folder)
        let whole = try await store.verifyJournal(of: nil)
        #expect(whole.problem == nil && whole.entries == 20)
        let one = try await store.verifyJournal(of: IncidentID(2))
        #expect(one.problem == nil && one.entries == 10)
        await store.close()
    }

    @Test("One byte changed in an entry's text names that entry")
    func changedByte() async throws {
        let folder = try ScratchFolder()
        try await Self.journal(20, in: folder).close()
        try Self.tamper(folder, "UPDATE journal SET text = 'note 8!' WHERE sequence = 8")
        let store = try SQLiteStore(folder: folder.path)
        let problem = try #require(try await store.verifyJournal(of: nil).problem)
        #expect(problem.sequence == 8 && problem.incident == IncidentID(1))
        #expect(problem.reason.hasPrefix("its content does not match its hash"))
        #expect(try await store.verifyJournal(of: IncidentID(1)).problem?.sequence == 8)
        #expect(try await store.verifyJournal(of: IncidentID(2)).problem == nil, "the other incident is intact")
        await store.close()
    }

    @Test("A changed actor or time, a removed entry and a rewritten chain are each caught where they are")
    func otherTampering() async throws {
        for (sql, broken) in [
            ("UPDATE journal SET actor = 'cli:mallory' WHERE sequence = 3", Int64(3)),
            ("UPDATE journal SET at = at + 1 WHERE sequence = 5", 5),
            ("DELETE FROM journal WHERE sequence = 6", 7),
            ("UPDATE journal SET chain = hash WHERE sequence = 9", 9),
        ] {
            let folder = try ScratchFolder()
            try await Self.journal(12, in: folder).close()
            try Self.tamper(folder, sql)
            let store = try SQLiteStore(folder: folder.path)
            let problem = try await store.verifyJournal(of: nil).problem
            #expect(problem?.sequence == broken, "\(sql): \(problem?.description ?? "nothing found")")
            await store.close()
        }
    }

    @Test("A transaction's entries share one link of the journal's chain, on its last; a cut end or a changed link is named")
    func links() async throws {
        for (sql, reason) in [
            ("DELETE FROM journal WHERE sequence = 7", "the entries 3 to 6 are not in the journal's chain"),
            ("UPDATE journal SET chain = hash WHERE sequence = 7", "breaks at the link of the entries 3 to 7"),
            ("UPDATE journal SET chain = (SELECT chain FROM journal WHERE sequence = 7) WHERE sequence = 5",
             "breaks at the link of the entries 3 to 5"),
        ] {
            let folder = try ScratchFolder()
            let store = try await Self.journal(2, in: folder)
            try await store.write(.appendJournal((3...7).map { index in
                JournalEntry(incident: IncidentID(index % 2 + 1), actor: "cli:alice", kind: .note, text: "note \(index)")
            }))
            let verified = try await store.verifyJournal(of: nil)
            #expect(verified.problem == nil && verified.entries == 7)
            #expect(try await store.journalHead()?.sequence == 7)
            await store.close()
            let queue = try DatabaseQueue(path: folder.path + "/automator.sqlite")
            let linked = try await queue.read { db in
                try Int64.fetchAll(db, sql: "SELECT sequence FROM journal WHERE chain IS NOT NULL ORDER BY sequence")
            }
            try queue.close()
            #expect(linked == [1, 2, 7], "a link per transaction")

            try Self.tamper(folder, sql)
            let reopened = try SQLiteStore(folder: folder.path)
            let problem = try await reopened.verifyJournal(of: nil).problem
            #expect(problem?.sequence == 3 && problem?.reason.contains(reason) == true,
                    "\(sql): \(problem?.description ?? "nothing found")")
            #expect(try await reopened.verifyJournal(of: IncidentID(1)).problem == nil, "each incident's own hashes hold")
            await reopened.close()
        }
    }

    @Test("Each entry's hash and each transaction's link are stored as the 32 bytes they hash to, as BLOBs")
    func storedHashes() async throws {
        let folder = try ScratchFolder()
        let store = try await Self.journal(1, in: folder)
        try await store.write(.appendJournal((2...4).map { index in
            JournalEntry(incident: IncidentID(1), actor: "cli:alice", kind: .note, text: "note \(index)")
        }))
        await store.close()
        let queue = try DatabaseQueue(path: folder.path + "/automator.sqlite")
        let rows = try queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT sequence, incident, at, actor, kind, text, hash, chain, typeof(hash), typeof(chain)
                FROM journal ORDER BY sequence
                """)
        }
        try queue.close()
        var heads: [Int: JournalHash] = [:]
        var chain = JournalHash.origin
        var unlinked: [UInt8] = []
        for row in rows {
            let entry = try SQLiteStore.storedEntry(row)
            let expected = JournalChain.hash(entry, after: heads[entry.incident] ?? .origin)
            #expect(row[8] == "blob" && row[6] == expected.data, "entry \(entry.sequence)")
            heads[entry.incident] = expected
            unlinked += expected.data
            let linksHere = [1, 4].contains(row[0] as Int64)
            #expect(row[9] == (linksHere ? "blob" : "null"), "entry \(row[0] as Int64)")
            guard linksHere else { continue }
            chain = JournalChain.chain(unlinked, after: chain)
            unlinked = []
            #expect(row[7] == chain.data, "the link on entry \(row[0] as Int64)")
        }
        #expect(rows.count == 4)
    }

    @Test("A row written outside Automator with no hash does not stop the writer: the next append goes on, and verify names that row")
    func rowWithoutHash() async throws {
        let folder = try ScratchFolder()
        try await Self.journal(4, in: folder).close()
        try Self.tamper(folder, """
            INSERT INTO journal (sequence, incident, at, actor, kind, text)
            SELECT 5, incident, at, actor, kind, 'forged' FROM journal WHERE sequence = 4
            """)
        let store = try SQLiteStore(folder: folder.path)
        try await Self.note("after the forged row", on: 2, to: store)
        let problem = try #require(try await store.verifyJournal(of: nil).problem)
        #expect(problem.sequence == 5, "\(problem)")
        #expect(try await store.journal(of: IncidentID(2)).last?.text == "after the forged row")
        await store.close()
    }

    @Test("A link covers what the transaction kept when the tip forgot its appends midway")
    func linkAfterForgetting() async throws {
        let folder = try ScratchFolder()
        try await Self.journal(2, in: folder).close()
        let queue = try DatabaseQueue(path: folder.path + "/automator.sqlite")
        let tip = JournalTip()
        try await queue.write { db in
            tip.begin()
            for text in ["kept 1", "kept 2", "kept 3"] {
                var entry = JournalEntry(incident: IncidentID(1), actor: "api", kind: .note, text: text)
                try tip.append(&entry, to: db)
                // As a rolled-back savepoint of another write in the batch makes it do.
                if text == "kept 2" { tip.forget() }
            }
            try tip.link(db)
        }
        try queue.close()
        let store = try SQLiteStore(folder: folder.path)
        let verified = try await store.verifyJournal(of: nil)
        #expect(verified.problem == nil && verified.entries == 5, "\(verified.problem?.description ?? "")")
        await store.close()
    }

    @Test("A signed checkpoint catches entries cut from the end, a forged signature and another key")
    func checkpoints() async throws {
        let folder = try ScratchFolder()
        let store = try await Self.journal(10, in: folder)
        let signature = try await JournalSignature.loadOrCreate(in: folder.path, for: store)
        let attributes = try FileManager.default.attributesOfItem(atPath: JournalSignature.path(in: folder.path))
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let head = try #require(try await store.journalHead())
        try await store.write(.addCheckpoint(try signature.checkpoint(sequence: head.sequence, chain: head.chain)))
        let verified = try await store.verifyJournal(of: nil)
        #expect(verified.problem == nil && verified.checkpoints == 1)
        await store.close()

        // Cutting the last entries leaves a chain that verifies on its own: the checkpoint does not.
        try Self.tamper(folder, "DELETE FROM journal WHERE sequence > 8")
        var reopened = try SQLiteStore(folder: folder.path)
        var problem = try await reopened.verifyJournal(of: nil).problem
        #expect(problem?.sequence == 10 && problem?.reason.contains("the journal was cut after it") == true)
        await reopened.close()

        try Self.tamper(folder, "UPDATE journal_checkpoint SET sequence = 8, chain = (SELECT chain FROM journal WHERE sequence = 8)")
        reopened = try SQLiteStore(folder: folder.path)
        problem = try await reopened.verifyJournal(of: nil).problem
        #expect(problem?.reason.contains("bad signature") == true, "\(problem?.description ?? "")")
        await reopened.close()

        // A checkpoint signed by another key than the folder's.
        try Self.tamper(folder, "DELETE FROM journal_checkpoint")
        let elsewhere = try ScratchFolder()
        let strangers = try SQLiteStore(folder: elsewhere.path)
        let stranger = try await JournalSignature.loadOrCreate(in: elsewhere.path, for: strangers)
        await strangers.close()
        reopened = try SQLiteStore(folder: folder.path)
        let eight = try #require(try await reopened.journalHead())
        try await reopened.write(.addCheckpoint(try stranger.checkpoint(sequence: eight.sequence, chain: eight.chain)))
        problem = try await reopened.verifyJournal(of: nil).problem
        #expect(problem?.reason.contains("another key") == true, "\(problem?.description ?? "")")
        await reopened.close()
    }

    @Test("Entries written before the chains existed are hashed by the migration, in order")
    func migration() async throws {
        let folder = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: folder.path + "/automator.sqlite", version: "v4", sql: """
            INSERT INTO incident (number, title, type, severity, status, labels, fields, details, created_at, updated_at,
                                  alert_count)
            VALUES (1, 'Old', 'test', 'low', 'new', '[]', '{}', '', 0, 0, 1);
            INSERT INTO journal (incident, at, actor, kind, text) VALUES (1, 1000, 'api', 'created', 'low test: Old');
            INSERT INTO journal (incident, at, actor, kind, text) VALUES (1, 2000, 'cli:bob', 'note', 'looked');
            """)
        let store = try SQLiteStore(folder: folder.path)
        try await store.write(.appendJournal([JournalEntry(incident: IncidentID(1), actor: "api", kind: .note, text: "new")]))
        let verified = try await store.verifyJournal(of: nil)
        #expect(verified.problem == nil && verified.entries == 3)
        await store.close()
    }

    /// Appends one note to INC-`incident` through `store`.
    static func note(_ text: String, on incident: Int, to store: SQLiteStore) async throws {
        try await store.write(.appendJournal([JournalEntry(incident: IncidentID(incident), actor: "cli:alice",
                                                           kind: .note, text: text)]))
    }

    @Test("The writer's remembered tip follows what savepoints undo and what another process appends")
    func rememberedTip() async throws {
        let folder = try ScratchFolder()
        let store = try await Self.journal(4, in: folder)
        // Undone by a savepoint: the second entry's incident does not exist, and a write that
        // is refused after an append in the same `.all`.
        await #expect(throws: StoreError.self) {
            try await store.write(.appendJournal([
                JournalEntry(incident: IncidentID(1), actor: "api", kind: .note, text: "undone 1"),
                JournalEntry(incident: IncidentID(99), actor: "api", kind: .note, text: "undone 2"),
            ]))
        }
        await #expect(throws: StoreError.self) {
            try await store.write(.all([
                .appendJournal([JournalEntry(incident: IncidentID(2), actor: "api", kind: .note, text: "undone 3")]),
                .completeTask(TaskID(42), answer: "yes", by: "cli:bob", at: Date()),
            ]))
        }
        try await Self.note("after the undone", on: 1, to: store)
        // Another process appends to the same file, then this one again: first to another incident,
        // whose head it still knows (only the taken sequence tells it), then to the one appended to.
        let other = try SQLiteStore(folder: folder.path)
        try await Self.note("from elsewhere", on: 2, to: other)
        try await Self.note("from elsewhere again", on: 2, to: other)
        await other.close()
        try await Self.note("after elsewhere", on: 1, to: store)
        try await Self.note("and on", on: 2, to: store)
        let verified = try await store.verifyJournal(of: nil)
        #expect(verified.problem == nil, "\(verified.problem?.description ?? "")")
        #expect(verified.entries == 9)
        let texts = try await store.journal(of: IncidentID(2)).map(\.text)
        #expect(texts.suffix(3) == ["from elsewhere", "from elsewhere again", "and on"])
        #expect(try await store.verifyJournal(of: IncidentID(2)).problem == nil)
        await store.close()
    }
}
