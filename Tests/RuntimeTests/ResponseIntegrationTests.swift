import AutomatorRuntime
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Response integrations: the shipped actions against loopback copies of the products' APIs", .serialized,
       .timeLimit(.minutes(1)))
struct ResponseIntegrationTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/integrations").path

    static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The shipped integration `name` alone (copied into a folder of its own), with `settings`.
    static func integrations(_ name: String, _ settings: [String: String]) async throws -> (Integrations, ScratchFolder) {
        let folder = try ScratchFolder()
        try FileManager.default.copyItem(atPath: scripts + "/\(name).lua", toPath: folder.path + "/\(name).lua")
        let integrations = await Integrations(folder: folder.path, settings: [name: .init(values: settings)],
                                              environment: [:], logger: logger)
        #expect(integrations.problems.isEmpty, "\(integrations.problems)")
        return (integrations, folder)
    }

    /// An action service over `integrations` and a store in `folder`, with an incident to journal on.
    static func service(_ integrations: Integrations, in folder: ScratchFolder) async throws -> (ActionService, SQLiteStore) {
        let store = try SQLiteStore(folder: folder.path + "/data")
        return (ActionService(integrations: integrations, store: store, configuration: ActionConfiguration(), logger: logger),
                store)
    }

    static func run(_ service: ActionService, _ name: String, _ parameters: [String: Any], key: String) async
        -> Result<ActionRecord, ActionError>
    {
        do {
            let plan = try service.plan(name, parameters: parameters)
            return .success(try await service.perform(plan, key: key, incident: nil, requestedBy: "test",
                                                      approvedBy: "test"))
        } catch { return .failure(error) }
    }

    // MARK: - Check Point

    /// The Management API as its reference describes it: POST /web_api/COMMAND with a JSON body;
    /// `login` takes an API key and gives a session id that every other command needs in
    /// X-chkp-sid; changes stay in the session until `publish` (or `discard`); errors are
    /// {"code", "message", "errors": [...]}.
    final class CheckPoint: Sendable {
        struct State {
            var commands: [String] = []
            var sessions: Set<String> = []
            var hosts: [String: String] = [:]
            var published: Set<String> = []
            var pending: Set<String>?
        }
        let state = Mutex(State())
        static let apiKey = "cp-api-key-1234"
        static let group = "Automator_Blocked"

        var commands: [String] { state.withLock { $0.commands } }
        var blocked: Set<String> { state.withLock { $0.published } }

        func start() async throws -> LoopbackServer {
            let router = Router()
            router.post("/web_api/{command}") { request, context -> Response in
                let command = context.parameters.get("command") ?? ""
                let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
                let fields = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
                let sid = request.headers.first(where: { $0.name.canonicalName == "x-chkp-sid" })?.value
                return self.state.withLock { state in
                    state.commands.append(command)
                    return Self.answer(command, fields, sid: sid, &state)
                }
            }
            return try await LoopbackServer(router)
        }

        static func error(_ code: String, _ message: String, _ status: HTTPResponse.Status, errors: [String] = []) -> Response {
            let details = errors.map { #"{"message": "\#($0)", "type": "error"}"# }.joined(separator: ",")
            return json(#"{"code": "\#(code)", "message": "\#(message)", "errors": [\#(details)]}"#, status)
        }

        static func answer(_ command: String, _ fields: [String: Any], sid: String?, _ state: inout State) -> Response {
            if command == "login" {
                guard fields["api-key"] as? String == apiKey else {
                    return error("err_login_failed", "Authentication to server failed.", .badRequest)
                }
                let session = "sid-\(state.sessions.count + 1)"
                state.sessions.insert(session)
                return json(#"{"sid": "\#(session)", "uid": "u-1", "session-timeout": 600, "api-server-version": "1.9"}"#)
            }
            guard let sid, state.sessions.contains(sid) else {
                return error("generic_err_wrong_session_id", "Wrong session id [\(sid ?? "")]. Session may be expired.",
                             .unauthorized)
            }
            var members = state.pending ?? state.published
            switch command {
            case "add-host":
                let name = fields["name"] as? String ?? ""
                guard state.hosts[name] == nil else {
                    return error("err_validation_failed", "Validation failed with 1 error", .badRequest,
                                 errors: ["More than one object have the same name."])
                }
                state.hosts[name] = fields["ip-address"] as? String
                return json(#"{"uid": "h-\#(state.hosts.count)", "name": "\#(name)", "type": "host"}"#)
            case "set-group":
                guard fields["name"] as? String == group else {
                    return error("generic_err_object_not_found", "Requested object [\(fields["name"] ?? "")] not found",
                                 .notFound)
                }
                let change = fields["members"] as? [String: String] ?? [:]
                if let add = change["add"] { members.insert(add) }
                if let remove = change["remove"] { members.remove(remove) }
                state.pending = members
                return json(#"{"uid": "g-1", "name": "\#(group)", "type": "group"}"#)
            case "delete-host":
                state.hosts[fields["name"] as? String ?? ""] = nil
                return json(#"{"message": "OK"}"#)
            case "publish":
                state.published = members
                state.pending = nil
                return json(#"{"task-id": "01234567-89ab-cdef-0123-456789abcdef"}"#)
            case "discard":
                state.pending = nil
                return json(#"{"message": "OK", "number-of-discarded-changes": 1}"#)
            case "logout":
                state.sessions.remove(sid)
                return json(#"{"message": "OK"}"#)
            default:
                return error("generic_err_command_not_found", "Unknown command \(command)", .notFound)
            }
        }
    }

    @Test("Check Point: login, add-host, set-group, publish, logout to block; remove and delete-host to unblock")
    func checkPoint() async throws {
        let checkPoint = CheckPoint()
        let server = try await checkPoint.start()
        defer { server.stop() }
        let (integrations, folder) = try await Self.integrations("checkpoint", [
            "base_url": server.url + "/web_api", "api_key": CheckPoint.apiKey,
        ])
        let (service, store) = try await Self.service(integrations, in: folder)
        let declared = try service.declaration("checkpoint.block_ip")
        #expect(declared.risk == .high && declared.undo == "unblock_ip" && declared.ttl == 86400)

        let blocked = try await Self.run(service, "checkpoint.block_ip", ["ip": "198.51.100.7", "reason": "C2"], key: "k/1").get()
        #expect(checkPoint.commands == ["login", "add-host", "set-group", "publish", "logout"])
        #expect(checkPoint.blocked == ["automator-198.51.100.7"])
        #expect(blocked.result == #"{"group":"Automator_Blocked","host":"automator-198.51.100.7"}"#)
        #expect(checkPoint.state.withLock { $0.sessions.isEmpty }, "logged out")

        // Blocked again (another playbook, or the replay of this one): the host object exists.
        _ = try await Self.run(service, "checkpoint.block_ip", ["ip": "198.51.100.7"], key: "k/2").get()
        #expect(checkPoint.commands.suffix(5) == ["login", "add-host", "set-group", "publish", "logout"])

        _ = try await service.undo(blocked.id, by: "test")
        #expect(checkPoint.commands.suffix(5) == ["login", "set-group", "delete-host", "publish", "logout"])
        #expect(checkPoint.blocked.isEmpty)
        await store.close()
        integrations.shutdown()
    }

    @Test("Check Point: a refused key fails the action; a failed change is discarded, not published")
    func checkPointFailures() async throws {
        let checkPoint = CheckPoint()
        let server = try await checkPoint.start()
        defer { server.stop() }
        let (wrongKey, folder) = try await Self.integrations("checkpoint", [
            "base_url": server.url + "/web_api", "api_key": "wrong",
        ])
        let (service, store) = try await Self.service(wrongKey, in: folder)
        let refused = await Self.run(service, "checkpoint.block_ip", ["ip": "198.51.100.7"], key: "k/1")
        guard case .failure(let error) = refused else { Issue.record("the key was refused"); return }
        #expect(error.description == "checkpoint.block_ip failed: Check Point: Authentication to server failed. (400)")
        #expect(try await service.history().first?.status == .failed)
        await store.close()
        wrongKey.shutdown()

        let (missingGroup, other) = try await Self.integrations("checkpoint", [
            "base_url": server.url + "/web_api", "api_key": CheckPoint.apiKey, "group": "No_Such_Group",
        ])
        let (service2, store2) = try await Self.service(missingGroup, in: other)
        let failed = await Self.run(service2, "checkpoint.block_ip", ["ip": "198.51.100.8"], key: "k/2")
        guard case .failure(let missing) = failed else { Issue.record("the group is missing"); return }
        #expect(missing.description.contains("Requested object [No_Such_Group] not found (404)"), "\(missing)")
        #expect(checkPoint.commands.suffix(5) == ["login", "add-host", "set-group", "discard", "logout"])
        #expect(checkPoint.blocked.isEmpty, "nothing published")
        await store2.close()
        missingGroup.shutdown()
    }
}
