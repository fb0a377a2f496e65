import AutomatorRuntime
import Hummingbird

/// `POST /slack/interactions` and `/slack/commands`: Slack's requests to the bot. Outside the API's bearer
/// authentication: Slack signs its requests, and the adapter checks the signature. Its events
/// (`/slack/events`), a request for every message in a watched channel, are answered ahead of the
/// router, on the event loop that read them (`SlackEventsHandler`).
///
/// ```swift
/// SlackRoutes(adapter: slack, inbox: bot).add(to: router)
/// ```
struct SlackRoutes: Sendable {
    /// Events and interactions are a few kilobytes; files arrive as URLs, not in the body.
    static let maximumBody = 1 << 20

    let adapter: SlackAdapter
    let inbox: any ChatInbox

    func add<Context: RequestContext>(to router: some RouterMethods<Context>) {
        router.post("slack/interactions") { request, _ in try await interactions(request) }
        router.post("slack/commands") { request, _ in try await commands(request) }
    }

    func interactions(_ request: Request) async throws -> Response {
        Self.response(await adapter.handleInteraction(try await Self.slackRequest(request), delivering: inbox))
    }

    func commands(_ request: Request) async throws -> Response {
        Self.response(await adapter.handleCommand(try await Self.slackRequest(request), delivering: inbox))
    }

    private static func slackRequest(_ request: Request) async throws -> SlackHTTPRequest {
        let headers = request.headers
        return SlackHTTPRequest(body: Array(buffer: try await request.body.collect(upTo: maximumBody)),
                                timestamp: headers[.init("X-Slack-Request-Timestamp")!],
                                signature: headers[.init("X-Slack-Signature")!],
                                retry: headers[.init("X-Slack-Retry-Num")!])
    }

    private static func response(_ answer: SlackHTTPResponse) -> Response {
        Response(status: HTTPResponse.Status(code: answer.status), headers: [.contentType: answer.contentType],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
