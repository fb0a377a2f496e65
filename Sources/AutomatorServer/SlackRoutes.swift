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
        router.post("slack/interactions") { request, context in try await interactions(request, from: context) }
        router.post("slack/commands") { request, context in try await commands(request, from: context) }
    }

    func interactions(_ request: Request, from context: some RequestContext) async throws -> Response {
        try await Self.answer(request, context) { await adapter.handleInteraction($0, delivering: inbox) }
    }

    func commands(_ request: Request, from context: some RequestContext) async throws -> Response {
        try await Self.answer(request, context) { await adapter.handleCommand($0, delivering: inbox) }
    }

    /// `handle`'s answer to the request, or a 413 that says why (Hummingbird's own has no body).
    private static func answer(_ request: Request, _ context: some RequestContext,
                               _ handle: (SlackHTTPRequest) async -> SlackHTTPResponse) async throws -> Response
    {
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: maximumBody) } catch let error as any HTTPResponseError
            where error.status == .contentTooLarge
        {
            return response(.tooLarge(limit: maximumBody))
        }
        let headers = request.headers
        return response(await handle(SlackHTTPRequest(body: Array(buffer: body),
                                                      timestamp: headers[.init("X-Slack-Request-Timestamp")!],
                                                      signature: headers[.init("X-Slack-Signature")!],
                                                      retry: headers[.init("X-Slack-Retry-Num")!],
                                                      request: "\(request.method) \(request.uri.path)",
                                                      peer: (context as? any RemoteAddressRequestContext)?.peer)))
    }

    private static func response(_ answer: SlackHTTPResponse) -> Response {
        Response(status: HTTPResponse.Status(code: answer.status), headers: [.contentType: answer.contentType],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body)))
    }
}
