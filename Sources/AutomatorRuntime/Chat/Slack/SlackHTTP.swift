/// A request to `/slack/events` or `/slack/interactions`, as the server received it.
package struct SlackHTTPRequest: Sendable {
    /// The raw body: the signature is over its bytes.
    package var body: [UInt8]
    /// `X-Slack-Request-Timestamp`.
    package var timestamp: String?
    /// `X-Slack-Signature`.
    package var signature: String?
    /// `X-Slack-Retry-Num`, when Slack sends an event again.
    package var retry: String?
    /// Its method and path, and who sent it, for the log when it is refused.
    package var request: String
    package var peer: String?

    package init(body: [UInt8], timestamp: String?, signature: String?, retry: String? = nil,
                 request: String = "a request", peer: String? = nil)
    {
        self.body = body
        self.timestamp = timestamp
        self.signature = signature
        self.retry = retry
        self.request = request
        self.peer = peer
    }
}

/// What the server answers Slack.
package struct SlackHTTPResponse: Sendable, Equatable {
    package var status: Int
    package var contentType: String
    package var body: String

    /// Received: Slack wants it within 3 seconds, or it sends the event again.
    static let ok = text(200, "")
    static let unauthorized = text(401, "the Slack signature is missing, wrong or more than 5 minutes old")
    /// Before `run` has learnt the bot's user; Slack tries again later.
    static let notConnected = text(503, "the Slack adapter has not connected yet: try again")

    static func badRequest(_ message: String) -> SlackHTTPResponse { text(400, message) }

    /// A body over `limit` bytes: Slack's requests are a few kilobytes, files arrive as URLs.
    package static func tooLarge(limit: Int) -> SlackHTTPResponse {
        text(413, "a request of Slack's is at most \(limit) bytes: this is not one")
    }

    /// Received but not taken, saying why to the person who typed a slash command: Slack shows a
    /// text answer to them alone, where a failure status would read as a generic error.
    static func told(_ message: String) -> SlackHTTPResponse { text(200, message) }

    static func json(_ text: String) -> SlackHTTPResponse {
        SlackHTTPResponse(status: 200, contentType: "application/json; charset=utf-8", body: text)
    }

    private static func text(_ status: Int, _ body: String) -> SlackHTTPResponse {
        SlackHTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: body)
    }
}
