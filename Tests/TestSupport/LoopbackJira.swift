import Foundation
import Hummingbird
import Synchronization

/// Jira's REST API v2 on loopback, as Atlassian documents it, for `scripts/integrations/jira.lua`,
/// its issues in the project `SEC`:
///
/// - `GET /rest/api/2/search?jql=labels%3DLABEL`: the issues opened with that label, `{ issues: [{ key }] }`;
/// - `POST /rest/api/2/issue` `{ fields: { project: { key }, summary, labels... } }`: 201 `{ id, key, self }`,
///   `SEC-1` first; 400 `project: valid project is required` for another project;
/// - `POST /rest/api/2/issue/{key}/comment` `{ body }`: 201 `{ id, body }`;
/// - `GET /rest/api/2/issue/{key}?fields=status`: `{ key, fields: { status: { name, statusCategory: { key } } } }`;
/// - `GET /rest/api/2/issue/{key}/transitions`: those the workflow offers from the issue's status,
///   `{ transitions: [{ id, name, to: { name, statusCategory: { key } } }] }`; none while
///   `mayTransition` is false, as Jira lists them to an account without the Transition issues permission;
/// - `POST /rest/api/2/issue/{key}/transitions` `{ transition: { id }, update: { comment: [{ add: { body } }] } }`:
///   204, the issue in the transition's status with the comment; 400 for a transition not offered.
///
/// Statuses are To Do (category `new`), In Progress (`indeterminate`), Done and Won't Do (`done`).
/// An issue no one opened is 404 `Issue does not exist or you do not have permission to see it.`;
/// a request without `Authorization: Bearer jira-pat` 401 `You are not authenticated.`. Every
/// request is in `received`.
public final class LoopbackJira: Sendable {
    public static let authorization = "Bearer jira-pat"

    /// Which transitions the project's workflow has.
    public enum Workflow: Sendable {
        /// Any status to any other, each transition named after its status (a team-managed project's).
        case anyToAny
        /// To Do, Start Progress to In Progress, Done from there, Reopen back to To Do: a To Do
        /// issue has no transition to a done status.
        case linear
    }

    /// An issue: its status and its comments' bodies, oldest first.
    public struct Issue: Sendable {
        public var status: String
        public var comments: [String]
        public var label: String
    }

    public let received = ReceivedRequests()
    private let server: LoopbackServer
    private final class State: Sendable {
        /// By key, in the order they were opened.
        let issues = Mutex<[(key: String, issue: Issue)]>([])
        let mayTransition = Mutex(true)
    }
    private let state = State()

    /// Each status's category key.
    private static let categories = ["To Do": "new", "In Progress": "indeterminate", "Done": "done", "Won't Do": "done"]

    public init(workflow: Workflow = .anyToAny) async throws {
        let router = Router()
        let state = self.state
        received.route(router, .get, "/rest/api/2/search") { request in
            if let refused = Self.unauthenticated(request) { return refused }
            let label = request.line.components(separatedBy: "labels%3D").last ?? ""
            let keys = state.issues.withLock { $0 }.filter { $0.issue.label == label }.map { #"{"key": "\#($0.key)"}"# }
            return Loopback.json(#"{"startAt": 0, "total": \#(keys.count), "issues": [\#(keys.joined(separator: ","))]}"#)
        }
        received.route(router, .post, "/rest/api/2/issue") { request in
            if let refused = Self.unauthenticated(request) { return refused }
            let fields = request.json["fields"] as? [String: Any] ?? [:]
            guard (fields["project"] as? [String: String])?["key"] == "SEC" else {
                return Loopback.json(#"{"errorMessages": [], "errors": {"project": "valid project is required"}}"#, .badRequest)
            }
            let number = state.issues.withLock { issues in
                issues.append(("SEC-\(issues.count + 1)",
                               Issue(status: "To Do", comments: [], label: (fields["labels"] as? [String])?.first ?? "")))
                return issues.count
            }
            return Loopback.json(#"{"id": "1000\#(number)", "key": "SEC-\#(number)", "self": "http://jira/rest/api/2/issue/1000\#(number)"}"#,
                                 .created)
        }
        received.route(router, .post, "/rest/api/2/issue/{key}/comment") { request in
            Self.onIssue(request, state) { issue in
                let body = request.json["body"] as? String ?? ""
                issue.comments.append(body)
                return Loopback.json(#"{"id": "2000\#(issue.comments.count)", "body": \#(Self.quoted(body))}"#, .created)
            }
        }
        received.route(router, .get, "/rest/api/2/issue/{key}") { request in
            Self.onIssue(request, state) { issue in
                Loopback.json(#"{"key": "\#(Self.key(request))", "fields": {"status": \#(Self.status(issue.status))}}"#)
            }
        }
        received.route(router, .get, "/rest/api/2/issue/{key}/transitions") { request in
            Self.onIssue(request, state) { issue in
                let offered = state.mayTransition.withLock { $0 } ? Self.transitions(workflow, from: issue.status) : []
                let listed = offered.map { #"{"id": "\#($0.id)", "name": "\#($0.name)", "to": \#(Self.status($0.to))}"# }
                return Loopback.json(#"{"expand": "transitions", "transitions": [\#(listed.joined(separator: ","))]}"#)
            }
        }
        received.route(router, .post, "/rest/api/2/issue/{key}/transitions") { request in
            Self.onIssue(request, state) { issue in
                let id = (request.json["transition"] as? [String: Any])?["id"] as? String
                let offered = state.mayTransition.withLock { $0 } ? Self.transitions(workflow, from: issue.status) : []
                guard let transition = offered.first(where: { $0.id == id }) else {
                    return Loopback.json(#"{"errorMessages": ["Transition id '\#(id ?? "")' is not valid for this issue."], "errors": {}}"#,
                                         .badRequest)
                }
                let update = request.json["update"] as? [String: Any] ?? [:]
                for comment in update["comment"] as? [[String: Any]] ?? [] {
                    if let body = (comment["add"] as? [String: Any])?["body"] as? String { issue.comments.append(body) }
                }
                issue.status = transition.to
                return Response(status: .noContent)
            }
        }
        server = try await LoopbackServer(router)
    }

    public var url: String { server.url }

    /// The settings that point `jira.lua` here, in the project SEC.
    public var settings: [String: String] { ["base_url": url, "project": "SEC", "authorization": Self.authorization] }

    /// The issue `key` as it is now.
    public func issue(_ key: String) -> Issue? { state.issues.withLock { $0 }.first { $0.key == key }?.issue }

    /// The label each issue was opened with, in order.
    public var labels: [String] { state.issues.withLock { $0.map(\.issue.label) } }

    /// Opens `key` as someone would in Jira, in `status`.
    public func file(_ key: String, status: String = "To Do") {
        state.issues.withLock { $0.append((key, Issue(status: status, comments: [], label: ""))) }
    }

    /// Whether the account has the project's Transition issues permission; it has by default.
    public func mayTransition(_ allowed: Bool) { state.mayTransition.withLock { $0 = allowed } }

    public func stop() { server.stop() }

    private struct Transition {
        var id: String
        var name: String
        var to: String
    }

    /// What `workflow` offers from `status`.
    private static func transitions(_ workflow: Workflow, from status: String) -> [Transition] {
        switch workflow {
        case .anyToAny:
            return [("11", "To Do"), ("21", "In Progress"), ("31", "Done"), ("41", "Won't Do")]
                .filter { $0.1 != status }.map { Transition(id: $0.0, name: $0.1, to: $0.1) }
        case .linear:
            let next = ["To Do": [Transition(id: "11", name: "Start Progress", to: "In Progress")],
                        "In Progress": [Transition(id: "21", name: "Done", to: "Done")],
                        "Done": [Transition(id: "31", name: "Reopen", to: "To Do")]]
            return next[status] ?? []
        }
    }

    /// A status as Jira gives it, with its category.
    private static func status(_ name: String) -> String {
        let category = categories[name] ?? "new"
        return #"{"name": "\#(name)", "statusCategory": {"key": "\#(category)"}}"#
    }

    private static func key(_ request: ReceivedRequests.Request) -> String {
        let path = request.line.split(separator: " ").dropFirst().first.map { $0.split(separator: "?")[0] } ?? ""
        return path.split(separator: "/").dropFirst(4).first.map(String.init) ?? ""
    }

    /// `answer` for the issue the request's path names, which it may change; 404 for one no one opened.
    private static func onIssue(_ request: ReceivedRequests.Request, _ state: State,
                                _ answer: (inout Issue) -> Response) -> Response
    {
        if let refused = unauthenticated(request) { return refused }
        let key = key(request)
        return state.issues.withLock { issues in
            guard let index = issues.firstIndex(where: { $0.key == key }) else {
                return Loopback.json(#"{"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}"#,
                                     .notFound)
            }
            return answer(&issues[index].issue)
        }
    }

    private static func unauthenticated(_ request: ReceivedRequests.Request) -> Response? {
        request.headers["authorization"] == authorization ? nil
            : Loopback.json(#"{"errorMessages": ["You are not authenticated."], "errors": {}}"#, .unauthorized)
    }

    private static func quoted(_ text: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
    }
}
