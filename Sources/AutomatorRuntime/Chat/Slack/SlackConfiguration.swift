/// What the Slack adapter needs from the operator: its bot token (OAuth & Permissions,
/// `xoxb-…`), and how Slack's events reach it: over HTTP, signed with the app's signing secret
/// (Basic Information), or over Socket Mode, a WebSocket the bot opens with an app-level token
/// (`xapp-…`, with the `connections:write` scope), for a bot Slack cannot reach. Either or both.
///
/// ```swift
/// let configuration = SlackConfiguration(signingSecret: secret, botToken: "xoxb-…")
/// let behindTheFirewall = SlackConfiguration(botToken: "xoxb-…", appToken: "xapp-…")
/// ```
public struct SlackConfiguration: Sendable, Hashable {
    /// Checks that requests to `/slack/events` and `/slack/interactions` come from Slack; without
    /// it they are all refused.
    public var signingSecret: String?
    /// Sent as `Authorization: Bearer` to the Web API and to Slack's file URLs, and to no other host.
    public var botToken: String
    /// Opens Socket Mode's connections (`apps.connections.open`), and is sent nowhere else.
    public var appToken: String?
    /// The Web API's base URL; tests point it at a server on loopback.
    public var apiURL: String

    public init(signingSecret: String? = nil, botToken: String, appToken: String? = nil,
                apiURL: String = "https://slack.com/api")
    {
        self.signingSecret = signingSecret
        self.botToken = botToken
        self.appToken = appToken
        self.apiURL = apiURL
    }
}

extension SlackConfiguration: CustomStringConvertible {
    /// The API's URL only: the secret and the token stay out of logs.
    public var description: String { "SlackConfiguration(apiURL: \(apiURL))" }
}
