@testable import AutomatorRuntime
import Dispatch
import Foundation
import GRDB
import Synchronization
import TestSupport
import Testing

@Suite("Store: SQLite, PostgreSQL and group commit")
struct StoreTests {
    @Test("The store passes the store conformance suite", .timeLimit(.minutes(2)),
          arguments: StoreUnderTest.allCases, StoreConformance.Check.allCases)
    func conformance(_ store: StoreUnderTest, _ check: StoreConformance.Check) async throws {
        try await StoreConformance(open: try await store.opener()).run(check)
    }

    @Test("The store passes the incident store conformance suite", .timeLimit(.minutes(2)),
          arguments: StoreUnderTest.allCases, IncidentStoreConformance.Check.allCases)
    func incidentConformance(_ store: StoreUnderTest, _ check: IncidentStoreConformance.Check) async throws {
        try await IncidentStoreConformance(open: try await store.opener()).run(check)
    }

    @Test("The store passes the action store conformance suite", .timeLimit(.minutes(2)),
          arguments: StoreUnderTest.allCases, ActionStoreConformance.Check.allCases)
    func actionConformance(_ store: StoreUnderTest, _ check: ActionStoreConformance.Check) async throws {
        try await ActionStoreConformance(open: try await store.opener()).run(check)
    }

    @Test("Quotas are counted in the store, by integration, and shared by a second store on the same storage",
          .timeLimit(.minutes(1)), arguments: StoreUnderTest.allCases)
    func quotas(_ kind: StoreUnderTest) async throws {
        let open = try await kind.opener()
        let first = try #require(try await open() as? any IntelStore)
        let second = try #require(try await open() as? any IntelStore)
        let quotas = [QuotaWindow(requests: 2, period: .seconds(60)), QuotaWindow(requests: 3, period: .seconds(86400))]
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(try await first.takeQuota("virustotal", quotas, at: start) == nil)
        #expect(try await second.takeQuota("virustotal", quotas, at: start + 1) == nil)
        #expect(try await first.takeQuota("virustotal", quotas, at: start + 2) == start + 60, "the minute is spent, for both")
        #expect(try await second.takeQuota("abuseipdb", quotas, at: start + 2) == nil, "each integration its own")
        #expect(try await second.takeQuota("virustotal", quotas, at: start + 60) == nil, "the first request's slot is free")
        #expect(try await first.takeQuota("virustotal", quotas, at: start + 200) == start + 86400, "three a day")
        await first.close()
        await second.close()
    }

    // MARK: The data folder

    @Test("The data folder is created, private, with one database file in WAL mode, private too")
    func dataFolder() async throws {
        let scratch = try ScratchFolder()
        let folder = scratch.path + "/nested/automator-data"
        let store = try SQLiteStore(folder: folder)
        try await store.write(.createRun(StoreConformance.run(0)))
        let attributes = try FileManager.default.attributesOfItem(atPath: folder)
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o777 } == 0o700)
        #expect(store.path == folder + "/automator.sqlite")
        #expect(FileManager.default.fileExists(atPath: store.path + "-wal"))
        for file in [store.path, store.path + "-wal", store.path + "-shm"] {
            let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(mode.map { $0 & 0o777 } == 0o600, "\(file) is \(String(mode ?? 0, radix: 8))")
        }
        await store.close()
    }

    @Test("A data folder that is a file, or cannot be created, says so")
    func dataFolderErrors() throws {
        let scratch = try ScratchFolder()
        let file = scratch.path + "/data"
        #expect(FileManager.default.createFile(atPath: file, contents: Data("x".utf8)))
        let isFile = #expect(throws: StoreError.self) { try SQLiteStore(folder: file) }
        #expect(isFile?.kind == .dataFolder)
        #expect(isFile?.description == "the data folder \(file) is a file, not a folder: move the file aside, "
            + "or pass --data with another folder")

        let under = #expect(throws: StoreError.self) { try SQLiteStore(folder: file + "/inside") }
        #expect(under?.kind == .dataFolder)
        let expected = "could not create the data folder \(file)/inside (Not a directory)"
        #expect(under?.description.hasPrefix(expected) == true, "\(String(describing: under))")
    }

    @Test("Runs of one script write its source once: a run's row names it by digest")
    func sourcesStoredOnce() async throws {
        let scratch = try ScratchFolder()
        let store = try SQLiteStore(folder: scratch.path)
        let watcher = Array(String(repeating: "-- the chat watcher, 1.7 KB a message\n", count: 45).utf8)
        try await store.write(.all((0..<100).map { .createRun(StoreConformance.run($0, source: watcher)) }))
        let (sources, inline) = try await store.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM script_source"),
             try Int.fetchOne(db, sql: "SELECT sum(length(source)) FROM run"))
        }
        #expect(sources == 1)
        #expect(inline == 0)
        #expect(try await store.loadRun(StoreConformance.run(99).id)?.source == watcher)
        await store.close()
    }

    // MARK: Damaged and foreign files

    @Test("A file of random bytes is not taken for a database")
    func randomBytes() throws {
        let scratch = try ScratchFolder()
        let path = scratch.path + "/automator.sqlite"
        let bytes = Data((0..<8192).map { _ in UInt8.random(in: 0...255) })
        #expect(FileManager.default.createFile(atPath: path, contents: bytes))
        let error = #expect(throws: StoreError.self) { try SQLiteStore(folder: scratch.path) }
        #expect(error?.kind == .notADatabase)
        #expect(error?.description == "the database at \(path) is not a valid Automator database (file is not a "
            + "database): restore it from a backup or move it aside to start empty")
    }

    @Test("A truncated database fails with a clear error, not a crash")
    func truncated() async throws {
        let scratch = try ScratchFolder()
        let store = try SQLiteStore(folder: scratch.path)
        let source = Array(repeating: UInt8(ascii: "x"), count: 2_000)
        let writes = (0..<300).flatMap { index -> [StoreWrite] in
            let run = StoreConformance.run(index, source: source)
            return [.createRun(run), .appendHostCalls((1...5).map { StoreConformance.record(run.id, $0) })]
        }
        for result in await StoreConformance.submitAll(writes, to: store) { try result.get() }
        await store.close()
        let wal = try FileManager.default.attributesOfItem(atPath: store.path + "-wal")
        #expect(wal[.size] as? Int == 0, "closing moves the WAL into the database file")

        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: store.path))
        let size = try file.seekToEnd()
        try file.truncate(atOffset: size * 2 / 5)
        try file.close()

        let error = await #expect(throws: StoreError.self) { try await readEverything(in: scratch.path) }
        #expect(error?.kind == .notADatabase)
        #expect(error?.description.contains("database disk image is malformed") == true, "\(String(describing: error))")
    }

    /// Opens the store in `folder` and reads every run and record in it.
    private func readEverything(in folder: String) async throws {
        let store = try SQLiteStore(folder: folder)
        do {
            for run in try await store.listRuns(status: nil, limit: 1_000) { _ = try await store.hostCalls(of: run.id) }
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }

    @Test("Another program's SQLite file is left alone")
    func foreignDatabase() throws {
        let scratch = try ScratchFolder()
        let path = scratch.path + "/automator.sqlite"
        try SQLiteStore.makeDatabase(at: path, version: nil, sql: "CREATE TABLE contacts (name TEXT)")
        let error = #expect(throws: StoreError.self) { try SQLiteStore(folder: scratch.path) }
        #expect(error?.kind == .notADatabase)
        #expect(error?.description.contains("belongs to another program") == true)
    }

    @Test("Processes creating one new database at the same moment all open it: the second waits for the first's schema")
    func createdTogether() async throws {
        for _ in 0..<16 {
            let scratch = try ScratchFolder()
            let folder = scratch.path
            // Each its own connections, as two automator processes have: only the files are shared.
            let opened = await withTaskGroup(of: String?.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        do {
                            let store = try SQLiteStore(folder: folder)
                            await store.close()
                            return nil
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
            }
            #expect(opened.isEmpty, "\(opened)")
        }
    }

    @Test("A creation cut short before its first migration committed (GRDB's table alone) is finished, not refused")
    func creationCutShort() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/automator.sqlite", version: nil,
                                     sql: "CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY)")
        let store = try SQLiteStore(folder: scratch.path)
        #expect(try await store.listRuns(status: nil, limit: 1).isEmpty)
        await store.close()
    }

    // MARK: Schema versions

    @Test("A database written by schema v1 opens with the full migrator, rows intact")
    func upgradeFromV1() async throws {
        let scratch = try ScratchFolder()
        // Rows as automator with only v1 wrote them: the SQL is frozen here, like the migration.
        try SQLiteStore.makeDatabase(at: scratch.path + "/automator.sqlite", version: "v1", sql: """
            INSERT INTO run (key, id, script, source, arguments, status, created_at, updated_at, finished_at, result,
                             error)
            VALUES (1, 'run-a', 'a.lua', CAST('return 1' AS BLOB), '[]', 'waiting', 1000, 2000, NULL, NULL, NULL),
                   (2, 'run-b', 'b.lua', CAST('return 2' AS BLOB), '[2]', 'completed', 3000, 4000, 4000, '[2]', NULL);
            INSERT INTO host_call (run_key, sequence, name, arguments_digest, result, recorded_at)
            VALUES (1, 1, 'time.now', 'ab', x'00ff', 1500), (1, 2, 'task.wait', 'cd', x'', 1600),
                   (2, 1, 'time.now', 'ef', x'01', 3500);
            """)
        let store = try SQLiteStore(folder: scratch.path)
        let waiting = RunRecord(id: RunID("run-a"), script: "a.lua", source: Array("return 1".utf8), arguments: "[]",
                                status: .waiting, createdAt: Date(millisecondsSince1970: 1000),
                                updatedAt: Date(millisecondsSince1970: 2000), finishedAt: nil, result: nil, error: nil)
        #expect(try await store.unfinishedRuns().map(\.run) == [waiting])
        #expect(try await store.loadRun(RunID("run-b"))?.result == "[2]")
        #expect(try await store.hostCalls(of: RunID("run-b")).map(\.argumentsDigest) == ["ef"])
        #expect(try await store.hostCalls(of: RunID("run-a")) == [
            HostCallRecord(runID: RunID("run-a"), sequence: 1, name: "time.now", argumentsDigest: "ab",
                           result: [0, 255], recordedAt: Date(millisecondsSince1970: 1500)),
            HostCallRecord(runID: RunID("run-a"), sequence: 2, name: "task.wait", argumentsDigest: "cd", result: [],
                           recordedAt: Date(millisecondsSince1970: 1600)),
        ])
        await store.close()
    }

    @Test("Incidents stored before the indicator index are found by what they mention once migrated")
    func indicatorBackfill() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/automator.sqlite", version: "v7", sql: """
            INSERT INTO incident (number, title, type, severity, status, labels, fields, details, raw, created_at,
                                  updated_at, alert_count)
            VALUES (1, 'Beacon to 198.51.100.7', 'c2', 'high', 'new', '[]', '{}', '', NULL, 0, 0, 1),
                   (2, 'Phish', 'phishing', 'low', 'new', '[]', '{"sender": "hr@examp1e-hr.com"}', '',
                    '{"url": "hxxps://examp1e-hr[.]com/login"}', 0, 0, 1);
            """)
        let store = try SQLiteStore(folder: scratch.path)
        func ids(_ value: String) async throws -> [Int] {
            try await store.listIncidents(IncidentQuery(indicator: value)).map(\.id.number)
        }
        #expect(try await ids("198.51.100.7") == [1])
        #expect(try await ids("hr@examp1e-hr.com") == [2])
        #expect(try await ids("https://examp1e-hr.com/login") == [2])
        await store.close()
    }

    @Test("A database from a newer version is refused, and says which versions it does not know")
    func newerSchema() throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/automator.sqlite", version: "v1",
                                     sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99')")
        let error = #expect(throws: StoreError.self) { try SQLiteStore(folder: scratch.path) }
        #expect(error?.kind == .newerVersion)
        #expect(error?.description.contains("unknown schema versions: v99") == true)
    }

    @Test("A status this version does not know is an error, not a crash")
    func unknownStatus() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/automator.sqlite", version: "v1", sql: """
            INSERT INTO run (id, script, source, arguments, status, created_at, updated_at)
            VALUES ('run-a', 'a.lua', x'', '[]', 'paused', 1, 1)
            """)
        let store = try SQLiteStore(folder: scratch.path)
        let error = await #expect(throws: StoreError.self) { try await store.loadRun(RunID("run-a")) }
        #expect(error?.kind == .newerVersion)
        #expect(error?.description.contains("'paused'") == true)
        await store.close()
    }

    // MARK: Read-only and full disks

    @Test("What was acknowledged survives a crash of the process")
    func processCrash() async throws {
        let scratch = try ScratchFolder()
        let store = try SQLiteStore(folder: scratch.path + "/live")
        let run = StoreConformance.run(0)
        try await store.write(.createRun(run))
        let completions = StoreConformance.Completions(expecting: 500)
        for sequence in 1...500 { store.append(StoreConformance.record(run.id, sequence)) { completions.record($0) } }
        #expect(await completions.all().allSatisfy { (try? $0.get()) != nil })

        // The files as a crash would leave them: the store still open, nothing closed or checkpointed.
        let crashed = try copyDatabase(of: store, to: scratch.path + "/crashed")
        let recovered = try SQLiteStore(folder: crashed)
        #expect(try await recovered.hostCalls(of: run.id) == (1...500).map { StoreConformance.record(run.id, $0) })
        await recovered.close()
        await store.close()
    }

    @Test("A read-only data folder says so when opened", .enabled(if: Tmpfs.isAvailable),
          arguments: ["closed cleanly", "left by a crash"])
    func readOnly(_ history: String) async throws {
        let tmpfs = try Tmpfs(size: "4m")
        let scratch = try ScratchFolder()
        let store = try SQLiteStore(folder: scratch.path)
        try await store.write(.createRun(StoreConformance.run(0)))
        if history == "closed cleanly" { await store.close() }
        _ = try copyDatabase(of: store, to: tmpfs.path)
        await store.close()
        try tmpfs.remount("ro")

        let error = #expect(throws: StoreError.self) { try SQLiteStore(folder: tmpfs.path) }
        #expect(error?.kind == .readOnly, "\(String(describing: error))")
        let description = error?.description ?? ""
        #expect(description.hasPrefix("the database at \(tmpfs.path)/automator.sqlite cannot be written ("))
        #expect(description.hasSuffix("): make the data folder and its files writable by this user (and the disk "
            + "writable), or pass --data with another folder"))
    }

    /// Copies the database file and its WAL (not the shared-memory index, which SQLite rebuilds)
    /// into `folder`; returns `folder`.
    private func copyDatabase(of store: SQLiteStore, to folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: store.path + suffix) {
            try FileManager.default.copyItem(atPath: store.path + suffix,
                                             toPath: folder + "/" + SQLiteStore.fileName + suffix)
        }
        return folder
    }

    @Test("A full disk fails the batch in progress, keeps what was saved, and writing resumes when there is room",
          .enabled(if: Tmpfs.isAvailable), .timeLimit(.minutes(1)))
    func diskFull() async throws {
        let tmpfs = try Tmpfs(size: "1m")
        let store = try SQLiteStore(folder: tmpfs.path)
        let run = StoreConformance.run(0)
        try await store.write(.createRun(run))
        var saved: [HostCallRecord] = []
        var failure: StoreError?
        for sequence in 1...200 {
            let record = HostCallRecord(runID: run.id, sequence: sequence, name: "http.get", argumentsDigest: "ab",
                                        result: [UInt8](repeating: 7, count: 32_768))
            do {
                try await store.write(.appendHostCalls([record]))
                saved.append(record)
            } catch {
                failure = error
                break
            }
        }
        let error = try #require(failure)
        #expect(error.kind == .diskFull)
        #expect(error.description.contains("is full (database or disk is full)"), "\(error)")
        #expect(saved.count > 5)
        #expect(try await store.hostCalls(of: run.id) == saved)

        try tmpfs.remount("size=8m")
        let next = HostCallRecord(runID: run.id, sequence: saved.count + 1, name: "http.get", argumentsDigest: "ab",
                                  result: [1, 2, 3])
        try await store.write(.appendHostCalls([next]))
        #expect(try await store.hostCalls(of: run.id) == saved + [next])
        await store.close()
    }

    // MARK: Sightings

    @Test("A thread's reader of sightings sees what another store on the same folder commits (the CLI while serve runs)")
    func sightingsAcrossStores() async throws {
        let scratch = try ScratchFolder()
        let serve = try SQLiteStore(folder: scratch.path)
        let reader = try #require(serve.sightingReader())
        #expect(try reader.sighting(of: "198.51.100.7", except: nil) == nil)

        let cli = try SQLiteStore(folder: scratch.path)
        var incident = IncidentStoreConformance.incident(1)
        incident.details = "beaconed to 198.51.100.7"
        try await cli.write(.createIncident(incident))
        #expect(try reader.sighting(of: "198.51.100.7", except: nil)?.status == .new)
        var close = IncidentChange(incident.id, at: IncidentStoreConformance.time(60))
        close.status = .closed
        try await cli.write(.updateIncident(close))
        #expect(try reader.sighting(of: "198.51.100.7", except: nil)
            == Sighting(id: incident.id, status: .closed, createdAt: incident.createdAt,
                        closedAt: IncidentStoreConformance.time(60)))
        await cli.close()

        await serve.close()
        let closed = #expect(throws: StoreError.self) { try reader.sighting(of: "198.51.100.7", except: nil) }
        #expect(closed?.kind == .closed)
    }

    // MARK: Group commit

    @Test("A lone write is committed at once, in a batch of its own")
    func loneWrite() async throws {
        let committer = RecordingCommitter()
        await committer.submitAndWait(1)
        #expect(committer.batches == [[1]])
    }

    @Test("Writes queued during a commit form the next batch, up to the maximum")
    func batching() async throws {
        let committer = RecordingCommitter(maximumBatch: 40)
        committer.hold()
        let completions = StoreConformance.Completions(expecting: 101)
        committer.submit(0) { completions.record($0) }
        committer.waitUntilCommitting()
        for value in 1...100 { committer.submit(value) { completions.record($0) } }
        committer.release()
        #expect(await completions.all().allSatisfy { (try? $0.get()) != nil })
        #expect(committer.batches == [[0], Array(1...40), Array(41...80), Array(81...100)])
    }

    @Test("A failed batch fails each of its writes, and the next batch is committed")
    func failedBatch() async throws {
        let committer = RecordingCommitter(failing: [1])
        committer.hold()
        let first = StoreConformance.Completions(expecting: 1), failed = StoreConformance.Completions(expecting: 3)
        committer.submit(0) { first.record($0) }
        committer.waitUntilCommitting()
        for value in 1...3 { committer.submit(value) { failed.record($0) } }
        committer.release()
        #expect(await first.all().allSatisfy { (try? $0.get()) != nil })
        #expect(await failed.all().map { (try? $0.get()) == nil } == [true, true, true])
        await committer.submitAndWait(4)
        #expect(committer.batches == [[0], [1, 2, 3], [4]])
    }

    @Test("A write refused on its own fails alone")
    func refusedWrite() async throws {
        let committer = RecordingCommitter(refusing: [2])
        committer.hold()
        let completions = StoreConformance.Completions(expecting: 4)
        committer.submit(0) { completions.record($0, at: 0) }
        committer.waitUntilCommitting()
        for value in 1...3 { committer.submit(value) { completions.record($0, at: value) } }
        committer.release()
        #expect(await completions.all().map { (try? $0.get()) == nil } == [false, false, true, false])
    }

    @Test("Closing waits for queued writes, then refuses new ones")
    func closingCommitter() async throws {
        let committer = RecordingCommitter()
        committer.hold()
        let completions = StoreConformance.Completions(expecting: 3)
        committer.submit(1) { completions.record($0) }
        committer.waitUntilCommitting()
        for value in 2...3 { committer.submit(value) { completions.record($0) } }
        async let closed: Void = committer.close()
        committer.release()
        await closed
        #expect(committer.batches == [[1], [2, 3]])
        #expect(await completions.all().allSatisfy { (try? $0.get()) != nil })

        let refused = StoreConformance.Completions(expecting: 1)
        committer.submit(4) { refused.record($0) }
        guard case .failure(let error) = await refused.all()[0] else {
            Issue.record("a write after close() was accepted")
            return
        }
        #expect(error.kind == .closed)
        #expect(committer.batches.count == 2)
    }
}

/// A `GroupCommitter` over integers that records its batches, can be held inside a commit, and
/// fails the batches or refuses the writes it is told to.
private final class RecordingCommitter: Sendable {
    private final class Log: Sendable {
        struct State {
            var batches: [[Int]] = []
            var held = false
        }

        let state = Mutex(State())
        let committing = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
    }

    private let log: Log
    private let committer: GroupCommitter<Int>

    init(maximumBatch: Int = 1_000, failing: Set<Int> = [], refusing: Set<Int> = []) {
        let log = Log()
        self.log = log
        committer = GroupCommitter(label: "test.commit", maximumBatch: maximumBatch) { batch throws(StoreError) in
            let held = log.state.withLock { state in
                state.batches.append(batch)
                defer { state.held = false }
                return state.held
            }
            if held {
                log.committing.signal()
                log.gate.wait()
            }
            if let first = batch.first, failing.contains(first) {
                throw .diskFull("/test", reason: "database or disk is full")
            }
            var refused: [Int: StoreError] = [:]
            for (index, value) in batch.enumerated() where refusing.contains(value) {
                refused[index] = .duplicateRun(RunID("run-\(value)"))
            }
            return refused
        }
    }

    var batches: [[Int]] { log.state.withLock { $0.batches } }

    /// The next commit waits inside the commit until `release()`.
    func hold() { log.state.withLock { $0.held = true } }
    func waitUntilCommitting() { log.committing.wait() }
    func release() { log.gate.signal() }

    func submit(_ value: Int, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        committer.submit(value, completion: completion)
    }

    func submitAndWait(_ value: Int) async {
        let completions = StoreConformance.Completions(expecting: 1)
        submit(value) { completions.record($0) }
        _ = await completions.all()
    }

    func close() async { await committer.close() }
}

/// A new empty folder under the system's temporary folder, removed afterwards.
final class ScratchFolder: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("automator-store-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
