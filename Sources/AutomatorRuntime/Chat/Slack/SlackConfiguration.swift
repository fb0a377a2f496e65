/// What the Slack adapter needs from the operator: the app's signing secret (Basic Information)
/// and its bot token (OAuth & Permissions, `xoxb-…`).
///
/// ```swift
/// let configuration = SlackConfiguration(signingSecret: secret, botToken: "xoxb-…")
/// ```
public struct SlackConfiguration: Sendable {
    /// Checks that requests to `/slack/events` and `/slack/interactions` come from Slack.
    public var signingSecret: String
    /// Sent as `Authorization: Bearer` to the Web API and to Slack's file URLs, and to no other host.
    public var botToken: String
    /// The Web API's base URL; tests point it at a server on loopback.
    public var apiURL: String

    public init(signingSecret: String, botToken: String, apiURL: String = "https://slack.com/api") {
        self.signingSecret = signingSecret
        self.botToken = botToken
        self.apiURL = apiURL
    }
}

extension SlackConfiguration: CustomStringConvertible {
    /// The API's URL only: the secret and the token stay out of logs.
    public var description: String { "SlackConfiguration(apiURL: \(apiURL))" }
}
