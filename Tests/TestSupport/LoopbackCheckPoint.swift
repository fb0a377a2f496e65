import Foundation
import Hummingbird
public import Synchronization

/// Check Point's Management API on loopback, as its reference describes it, for
/// `scripts/integrations/checkpoint.lua`: POST /web_api/COMMAND with a JSON body; `login` takes
/// an API key and gives a session id that every other command needs in X-chkp-sid; changes stay
/// in the session until `publish` (or `discard`); errors are {"code", "message", "errors": [...]}.
public final class LoopbackCheckPoint: Sendable {
    public struct State: Sendable {
        public var commands: [String] = []
        public var sessions: Set<String> = []
        public var hosts: [String: String] = [:]
        public var published: Set<String> = []
        public var pending: Set<String>?
    }
    public let state = Mutex(State())
    public static let apiKey = "cp-api-key-1234"
    public static let group = "Automator_Blocked"

    public var commands: [String] { state.withLock { $0.commands } }
    public var blocked: Set<String> { state.withLock { $0.published } }

    public init() {}

    public func start() async throws -> LoopbackServer {
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

    private static func error(_ code: String, _ message: String, _ status: HTTPResponse.Status, errors: [String] = []) -> Response {
        let details = errors.map { #"{"message": "\#($0)", "type": "error"}"# }.joined(separator: ",")
        return json(#"{"code": "\#(code)", "message": "\#(message)", "errors": [\#(details)]}"#, status)
    }

    private static func answer(_ command: String, _ fields: [String: Any], sid: String?, _ state: inout State) -> Response {
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

    private static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
