import Foundation
public import Hummingbird
import Synchronization

/// What a loopback copy of a product's API received: method, path with its query, the headers,
/// the body; each route answers what its closure says for the request.
///
/// ```swift
/// let received = ReceivedRequests()
/// let router = Router()
/// received.route(router, .post, "/v2/enqueue") { _ in Response(status: .accepted) }
/// ```
public final class ReceivedRequests: Sendable {
    public struct Request: Sendable {
        /// `POST /v2/enqueue?x=1`.
        public var line: String
        /// By lower-case name, Host included.
        public var headers: [String: String]
        public var body: String

        public init(line: String, headers: [String: String], body: String) {
            (self.line, self.headers, self.body) = (line, headers, body)
        }

        /// The body's form fields, decoded.
        public var form: [String: String] {
            Dictionary(body.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], (parts.count > 1 ? parts[1] : "").removingPercentEncoding ?? "")
            }, uniquingKeysWith: { $1 })
        }

        /// The body as a JSON object (empty if it is not one).
        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    private let requests = Mutex<[Request]>([])

    public init() {}

    public var all: [Request] { requests.withLock { $0 } }
    public var lines: [String] { requests.withLock { $0.map(\.line) } }
    public var last: Request? { requests.withLock { $0.last } }

    /// Records the request and answers what `answer` says for it.
    public func route(_ router: Router<BasicRequestContext>, _ method: HTTPRequest.Method, _ path: RouterPath,
                      _ answer: @escaping @Sendable (Request) -> Response)
    {
        router.on(path, method: method) { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            // HTTP types keep Host apart, as the authority: a signature over it (AWS's) reads it here.
            if let authority = request.head.authority { headers["host"] = authority }
            let query = request.uri.query.map { "?" + $0 } ?? ""
            let received = Request(line: "\(method) \(request.uri.path)\(query)", headers: headers, body: body)
            self.requests.withLock { $0.append(received) }
            return answer(received)
        }
    }
}
