public import Foundation
import Yams

/// The `chat` section of the configuration file: the networks the bot joins and who holds which
/// role.
///
/// ```yaml
/// chat:
///   roles:                               # Slack user names or ids; Matrix user ids only
///     approver: [alice, "@alice:example.org"]   # chat.approve waits for one of them
///     responder: [alice, bob]            # command { roles = { "responder" } }
///   slack:
///     signing_secret: ${SLACK_SIGNING_SECRET}   # events over HTTP, at /slack/events
///     bot_token: ${SLACK_BOT_TOKEN}
///     app_token: ${SLACK_APP_TOKEN}      # or (and) over Socket Mode, for a server Slack cannot reach
///   matrix:
///     homeserver: https://matrix.example.org
///     user: "@automator:example.org"
///     access_token: ${MATRIX_ACCESS_TOKEN}   # or password: ${MATRIX_PASSWORD}
///     invites_from: [example.org, "@alice:partner.example"]   # default: the bot's own server
///   report:                              # automator serve posts it every day
///     channel: "#soc"
///     daily_at: "08:00"                  # UTC
///     window: 7d                         # the report covers the last 7 days
/// ```
public struct ChatConfiguration: Sendable {
    public var roles: [String: [String]] = [:]
    public var slack: SlackConfiguration?
    public var matrix: MatrixConfiguration?
    public var report: ReportSchedule?

    public init() {}

    /// Slack's are 32 characters; an empty or short one is a mistake (an unset variable's "").
    static let shortestSigningSecret = 16

    /// Reads the `chat` section of `path` (the other sections are `IntelConfiguration`'s).
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        guard let (reader, root) = try ConfigurationReader.root(of: path, environment: environment),
              let section = root["chat"]
        else { return }
        let chat = try reader.mapping(section, key: "chat")
        try reader.only(["roles", "slack", "matrix", "report"], in: chat, key: "chat")
        if let node = chat["roles"] {
            for (role, members) in try reader.mapping(node, key: "chat.roles") {
                roles[role] = try reader.sequence(members, key: "chat.roles." + role).map { member throws(ConfigurationError) in
                    try reader.string(member, key: "chat.roles." + role)
                }
            }
        }
        if let node = chat["slack"] {
            let fields = try reader.mapping(node, key: "chat.slack")
            try reader.only(["signing_secret", "bot_token", "app_token", "api_url"], in: fields, key: "chat.slack")
            guard fields["signing_secret"] != nil || fields["app_token"] != nil else {
                throw reader.error(node, "chat.slack", """
                    give signing_secret (Slack sends events to /slack/events) or app_token (the bot opens a \
                    Socket Mode connection: for a server Slack cannot reach), or both
                    """)
            }
            var settings = SlackConfiguration(
                signingSecret: try fields["signing_secret"].map { node throws(ConfigurationError) in
                    let secret = try reader.string(node, key: "chat.slack.signing_secret")
                    // Anyone can sign with an empty key (a variable set to ""): forged events, commands, clicks.
                    guard secret.count >= Self.shortestSigningSecret else {
                        throw reader.error(node, "chat.slack.signing_secret", "Slack's signing secret expected (Basic "
                            + "Information, App Credentials: 32 characters); a shorter one lets anyone sign requests")
                    }
                    return secret
                },
                botToken: try reader.string(fields["bot_token"], key: "chat.slack.bot_token"),
                appToken: try fields["app_token"].map { node throws(ConfigurationError) in
                    let token = try reader.string(node, key: "chat.slack.app_token")
                    guard token.hasPrefix("xapp-") else {
                        throw reader.error(node, "chat.slack.app_token", "an app-level token (xapp-…, Basic Information, "
                            + "App-Level Tokens, with the connections:write scope) expected")
                    }
                    return token
                })
            if let url = fields["api_url"] { settings.apiURL = try reader.string(url, key: "chat.slack.api_url") }
            slack = settings
        }
        if let node = chat["report"] {
            let fields = try reader.mapping(node, key: "chat.report")
            try reader.only(["channel", "network", "daily_at", "window"], in: fields, key: "chat.report")
            let time = try reader.string(fields["daily_at"], key: "chat.report.daily_at")
            let parts = time.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                throw reader.error(fields["daily_at"], "chat.report.daily_at", "a time of day in UTC expected, such as \"08:00\"")
            }
            let window = try fields["window"].map { node throws(ConfigurationError) in
                let text = try reader.string(node, key: "chat.report.window")
                guard let seconds = DurationText.seconds(text), seconds > 0 else {
                    throw reader.error(node, "chat.report.window", DurationText.expected)
                }
                return seconds
            } ?? TimeInterval(7 * 86400)
            report = ReportSchedule(channel: try reader.string(fields["channel"], key: "chat.report.channel"),
                                    network: try fields["network"].map { node throws(ConfigurationError) in
                                        try reader.string(node, key: "chat.report.network")
                                    },
                                    minuteOfDay: parts[0] * 60 + parts[1], window: window)
        }
        if let node = chat["matrix"] {
            let fields = try reader.mapping(node, key: "chat.matrix")
            try reader.only(["homeserver", "user", "access_token", "password", "invites_from"], in: fields,
                            key: "chat.matrix")
            let credential: MatrixConfiguration.Credential
            if let token = fields["access_token"] {
                credential = .accessToken(try reader.string(token, key: "chat.matrix.access_token"))
            } else if let password = fields["password"] {
                credential = .password(try reader.string(password, key: "chat.matrix.password"))
            } else {
                throw reader.error(node, "chat.matrix", "give access_token or password")
            }
            let invitesFrom = try fields["invites_from"].map { node throws(ConfigurationError) in
                try reader.sequence(node, key: "chat.matrix.invites_from").map { entry throws(ConfigurationError) in
                    try reader.string(entry, key: "chat.matrix.invites_from")
                }
            }
            matrix = MatrixConfiguration(homeserver: try reader.string(fields["homeserver"], key: "chat.matrix.homeserver"),
                                         userID: try reader.string(fields["user"], key: "chat.matrix.user"),
                                         credential: credential, invitesFrom: invitesFrom)
        }
    }
}
