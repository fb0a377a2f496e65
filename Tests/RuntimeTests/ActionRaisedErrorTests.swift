@testable import AutomatorRuntime
import Foundation
import GRDB
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("An integration's error raised as a table reaches the playbook as that table, its secrets blanked",
       .serialized, .timeLimit(.minutes(2)))
struct ActionRaisedErrorTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let secret = "s3cr3t-token-4242"

    /// An API whose quota is used up: every call answers 403 (a 429 would be tried again), echoing
    /// the Authorization header it got in X-Echo, as a careless server does.
    final class Throttled: Sendable {
        let calls = Mutex(0)

        func start() async throws -> LoopbackServer {
            let router = Router()
            router.post("/block") { request, _ -> Response in
                self.calls.withLock { $0 += 1 }
                let echoed = request.headers.first(where: { $0.name.canonicalName == "authorization" })?.value ?? ""
                return Response(status: .forbidden, headers: [.init("X-Echo")!: echoed])
            }
            return try await LoopbackServer(router)
        }
    }

    /// Raises what the API said as a table: a code, when to try again, and the echoed header.
    static let integration = #"""
        return integration {
          name = "Throttled firewall",
          config = { base_url = { required = true }, token = { secret = true, required = true } },
          actions = {
            block_ip = {
              risk = "low", params = { ip = { type = "ip", required = true } },
              run = function(params, context)
                local response = http.post(context.config.base_url .. "/block", json.encode(params),
                                           { headers = { authorization = "Bearer " .. context.config.token } })
                error({ code = "quota", retry_after = 30, status = response.status, echoed = response.headers["x-echo"] })
              end,
            },
          },
        }
        """#

    /// The API on loopback and a folder where worlds start and restart.
    final class Scene: Sendable {
        let api = Throttled()
        let server: LoopbackServer
        let folder: ScratchFolder

        init() async throws {
            server = try await api.start()
            folder = try ScratchFolder()
        }

        func world() async throws -> World { try await World(folder: folder, api: server) }

        deinit { server.stop() }
    }

    /// The store, the integration and the runs, on a folder that outlives them.
    final class World: Sendable {
        let store: SQLiteStore
        let integrations: Integrations
        let runs: RunService
        let incidents: IncidentService

        init(folder: ScratchFolder, api: LoopbackServer) async throws {
            let scripts = folder.path + "/scripts"
            for place in ["integrations", "playbooks"] {
                try FileManager.default.createDirectory(atPath: scripts + "/" + place, withIntermediateDirectories: true)
            }
            try ActionRaisedErrorTests.integration.write(toFile: scripts + "/integrations/throttled.lua", atomically: true,
                                                         encoding: .utf8)
            store = try SQLiteStore(folder: folder.path + "/data")
            let ledger = IncidentLedger(store: store)
            integrations = await Integrations(folder: scripts + "/integrations",
                                              settings: ["throttled": .init(values: ["base_url": api.url,
                                                                                    "token": ActionRaisedErrorTests.secret])],
                                              environment: [:], logger: ActionRaisedErrorTests.logger)
            let actions = ActionService(integrations: integrations, store: store, rules: AccessRules(actions: ActionConfiguration()),
                                        logger: ActionRaisedErrorTests.logger)
            let modules = StandardModules.all(logger: ActionRaisedErrorTests.logger)
                + [IncidentsModule(ledger: ledger), ActionsModule(service: actions)]
            runs = try RunService(store: store, modules: modules, modulePaths: [scripts], executors: 1)
            incidents = try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
            try await incidents.start()
        }

        func open() async throws -> IncidentID {
            try await incidents.create(IncidentDraft(title: "C2 at 198.51.100.7", type: "c2", severity: .high), by: "test")
                .incident.id
        }

        /// Runs `body` with `inc` the incident, to its end.
        func run(_ body: String, on incident: IncidentID) async throws -> RunRecord {
            let source = #"local inc = incidents.get("\#(incident)")"# + "\n" + body
            let run = try await runs.submit(script: "respond.lua", source: Array(source.utf8))
            await runs.waitForEnd(run.id)
            return try #require(try await runs.run(run.id))
        }

        func stop() async {
            await incidents.shutdown()
            integrations.shutdown()
        }
    }

    @Test("actions.run gives back the table raised: its fields read, it prints and joins as the journal's text")
    func tableReachesThePlaybook() async throws {
        let scene = try await Scene()
        let (api, world) = (scene.api, try await scene.world())
        let incident = try await world.open()
        let ended = try await world.run("""
            local done, why = actions.run("throttled.block_ip", { ip = "198.51.100.7" }, { incident = inc })
            inc:note("not blocked: " .. why)
            local ok, raised = pcall(actions.run, "throttled.block_ip", { ip = "198.51.100.8" }, { incident = inc })
            return tostring(done == nil), type(why), why.code, tostring(why.retry_after), tostring(why.status), why.echoed,
                   tostring(why), tostring(ok and raised == nil)
            """, on: incident)
        #expect(ended.status == .completed, "\(ended.error ?? "")")
        let results = try #require(try JSONSerialization.jsonObject(with: Data((ended.result ?? "").utf8)) as? [Any])
        try #require(results.count == 8, "\(results)")
        #expect(results.prefix(6).map { "\($0)" } == ["true", "table", "quota", "30", "403", "Bearer [secret]"],
                "the echoed header is blanked before the script sees it: \(results)")
        #expect(results.last as? String == "true", "a failed action is an outcome, not an error pcall catches")
        let text = try #require(results[6] as? String)
        #expect(text.hasPrefix("throttled.block_ip failed: integrations/throttled.lua:10: {"), "\(text)")
        #expect(text.contains(#"code = "quota""#) && text.contains("retry_after = 30"), "\(text)")
        #expect(api.calls.withLock { $0 } == 2)

        let record = try #require(try await world.store.actions(on: incident, limit: 10).last)
        #expect(record.status == .failed && record.result == text, "the record keeps the text: \(record.result ?? "")")
        let journal = try await world.store.journal(of: incident).map(\.text)
        #expect(journal.contains { $0.hasSuffix(String(text.dropFirst("throttled.block_ip ".count))) }, "\(journal)")
        #expect(journal.contains("not blocked: " + text), "joined, why reads as its text: \(journal)")
        let everything = (journal + [ended.result ?? "", record.result ?? ""]).joined(separator: "\n")
        #expect(!everything.contains(Self.secret), "no secret in the run's result, the record or the journal")
        await world.stop()
    }

    @Test("A run recorded before failures were tables replays: its recorded why is text, as it was, and nothing diverges")
    func recordedBeforeReplays() async throws {
        let scene = try await Scene()
        var world = try await scene.world()
        let incident = try await world.open()
        let first = try await world.run("""
            local done, why = actions.run("throttled.block_ip", { ip = "198.51.100.7" }, { incident = inc })
            inc:note(type(why) == "table" and ("code " .. why.code) or ("text " .. why))
            error("stop here")
            """, on: incident)
        #expect(first.error?.contains("stop here") == true, "\(first.error ?? "")")
        let calls = try await world.store.hostCalls(of: first.id)
        let perform = try #require(calls.first { $0.name == "actions.perform" })
        guard case .success(let values) = try RecordCoding.decode(perform.result), case .string(let json)? = values.first,
              var action = try JSONSerialization.jsonObject(with: Data(json.description.utf8)) as? [String: Any]
        else { Issue.record("the perform's record is no action: \(perform.result)"); return }
        #expect(action["error"] != nil, "this version records the table: \(action)")
        await world.stop()

        // What a version before it recorded: the action without the table, and the run's calls up
        // to it (a crash then; its note was never made).
        action["error"] = nil
        let older = String(decoding: try JSONSerialization.data(withJSONObject: action, options: [.sortedKeys]), as: UTF8.self)
        let queue = try DatabaseQueue(path: scene.folder.path + "/data/automator.sqlite")
        try await queue.write { db in
            let key = try #require(try Int.fetchOne(db, sql: "SELECT key FROM run WHERE id = ?", arguments: [first.id.description]))
            try db.execute(sql: "UPDATE host_call SET result = ? WHERE run_key = ? AND sequence = ?",
                           arguments: [Data(RecordCoding.encode(.success([.string(LuaString(older))]))), key, perform.sequence])
            try db.execute(sql: "DELETE FROM host_call WHERE run_key = ? AND sequence > ?", arguments: [key, perform.sequence])
        }
        try queue.close()

        world = try await scene.world()
        _ = try await world.runs.retry(first.id)
        await world.runs.waitForEnd(first.id)
        let replayed = try #require(try await world.runs.run(first.id))
        #expect(replayed.error?.contains("stop here") == true, "the same end, not a divergence: \(replayed.error ?? "")")
        let notes = try await world.store.journal(of: incident).filter { $0.kind == .note }.map(\.text)
        #expect(notes.last?.hasPrefix("text throttled.block_ip failed: ") == true, "\(notes)")
        #expect(scene.api.calls.withLock { $0 } == 1, "the recorded outcome is replayed: nothing is sent again")
        await world.stop()
    }
}
