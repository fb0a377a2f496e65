public import Foundation
import Yams

/// The `chat` section of the configuration file: the networks the bot joins and who holds which
/// role.
///
/// ```yaml
/// chat:
///   roles:                               # Slack user names or ids; Matrix user ids, or names on the bot's server
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
///   report:                              # automator serve posts its figures every day, HTML attached
///     channel: "#soc"
///     daily_at: "08:00"                  # in tz
///     tz: Europe/Berlin                  # days, times and daily_at in this zone (default: UTC)
///     window: 7d                         # the 7 days before it; or yesterday, last-week... (tz's calendar)
///   tasks:                               # each new task, and each overdue one, told in chat
///     channel: "#soc"
///     owners: { tier2: "#soc-tier2" }    # an owner's own channel, instead of channel
///     escalate:                          # a task still open this long past due, told again
///       - { after: 30m }                 # in the owner's channel
///       - { after: 2h, channel: "#soc-leads", mention: "<!subteam^S0123ABCD>" }
/// ```
public struct ChatConfiguration: Sendable, Hashable {
    public var roles: [String: [String]] = [:]
    public var slack: SlackConfiguration?
    public var matrix: MatrixConfiguration?
    public var report: ReportSchedule?
    public var tasks: TaskNoticeSettings?

    public init() {}

    /// What `automator serve` warns at start and `automator check --config` says, when a chat
    /// network is configured and no one has the role approver: everyone there is refused an
    /// approval (`UnassignedRole`), so each waits for an operator.
    public var approvalsWaitForAnOperator: String? {
        let networks = [slack.map { _ in "Slack" }, matrix.map { _ in "Matrix" }].compactMap(\.self)
        guard !networks.isEmpty, UnassignedRole.none(of: ["approver"], in: roles) else { return nil }
        return "chat.roles.approver names no one, so no one in \(networks.joined(separator: " or ")) may approve: "
            + "approvals wait for an operator (automator question answer Q-… CHOICE, automator action run "
            + "--approve); name the approvers in chat.roles.approver"
    }

    /// Slack's are 32 characters; an empty or short one is a mistake (an unset variable's "").
    static let shortestSigningSecret = 16

    /// Reads the `chat` section of `path` (the other sections are read by their own types).
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key of every bad value.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError)
    {
        self = try ConfigurationReader.read(path, environment: environment, Self.init(reading:with:)) ?? Self()
    }

    /// Only the roles of `path`'s `chat` section: for the terminal (`automator chat`, the REPL),
    /// which connects to no network, so that a network's secret unset there
    /// (`${MATRIX_ACCESS_TOKEN}`) is no error.
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key of every bad role.
    public static func roles(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ConfigurationError) -> [String: [String]]
    {
        try ConfigurationReader.read(path, environment: environment) { root, reader in
            guard let section = root["chat"], let chat = reader.mapping(section), let node = chat["roles"] else {
                return [:]
            }
            return roles(node, reader)
        } ?? [:]
    }

    /// Reads the `chat` section of `root`, reporting its bad values to `reader`.
    init(reading root: ConfigurationMapping, with reader: ConfigurationReader) {
        guard let section = root["chat"], let chat = reader.mapping(section) else { return }
        reader.only(["roles", "slack", "matrix", "report", "tasks"], in: chat)
        if let node = chat["roles"] { roles = Self.roles(node, reader) }
        if let node = chat["slack"], let fields = reader.mapping(node) { slack = Self.slack(fields, reader) }
        if let node = chat["report"], let fields = reader.mapping(node) { report = Self.report(fields, reader) }
        if let node = chat["tasks"], let fields = reader.mapping(node) {
            // The first configured, as `ChatService` takes it when `network` names none.
            let first = chat["slack"] != nil ? "slack" : chat["matrix"] != nil ? "matrix" : ""
            tasks = Self.tasks(fields, firstNetwork: first, reader)
        }
        if let node = chat["matrix"], let fields = reader.mapping(node) { matrix = Self.matrix(fields, reader) }
    }

    private static func roles(_ node: ConfigurationValue, _ reader: ConfigurationReader) -> [String: [String]] {
        var roles: [String: [String]] = [:]
        for (role, members) in reader.mapping(node)?.entries ?? [] {
            roles[role] = reader.sequence(members)?.compactMap { member($0, reader) }
        }
        return roles
    }

    /// A person of a role. `@bob` names nobody: not a Slack name (written without the @), not a
    /// Matrix id (which has its server).
    private static func member(_ node: ConfigurationValue, _ reader: ConfigurationReader) -> String? {
        guard let member = reader.string(node) else { return nil }
        if member.hasPrefix("@"), !member.contains(":") {
            reader.report(node, "a Matrix user id is @name:server, as in \(member):example.org; a bare name "
                + "(\(member.dropFirst())) is a Slack user, or a Matrix user of the bot's own server")
            return nil
        }
        return member
    }

    private static func slack(_ fields: ConfigurationMapping, _ reader: ConfigurationReader) -> SlackConfiguration? {
        reader.only(["signing_secret", "bot_token", "app_token", "api_url"], in: fields)
        if fields["signing_secret"] == nil && fields["app_token"] == nil {
            reader.report(fields.value, """
                give signing_secret (Slack sends events to /slack/events) or app_token (the bot opens a \
                Socket Mode connection: for a server Slack cannot reach), or both
                """)
        }
        var signingSecret: String?
        if let node = fields["signing_secret"], let secret = reader.string(node) {
            // Anyone can sign with an empty key (a variable set to ""): forged events, commands, clicks.
            if secret.count >= Self.shortestSigningSecret {
                signingSecret = secret
            } else {
                reader.report(node, "Slack's signing secret expected (Basic Information, App Credentials: 32 "
                    + "characters); a shorter one lets anyone sign requests")
            }
        }
        var appToken: String?
        if let node = fields["app_token"], let token = reader.string(node) {
            if token.hasPrefix("xapp-") {
                appToken = token
            } else {
                reader.report(node, "an app-level token (xapp-…, Basic Information, App-Level Tokens, with the "
                    + "connections:write scope) expected")
            }
        }
        guard let botToken = reader.required("bot_token", in: fields).flatMap(reader.string) else { return nil }
        var settings = SlackConfiguration(signingSecret: signingSecret, botToken: botToken, appToken: appToken)
        if let url = fields["api_url"].flatMap(reader.string) { settings.apiURL = url }
        return settings
    }

    private static func report(_ fields: ConfigurationMapping, _ reader: ConfigurationReader) -> ReportSchedule? {
        reader.only(["channel", "network", "daily_at", "tz", "window"], in: fields)
        var minuteOfDay: Int?
        if let node = reader.required("daily_at", in: fields), let time = reader.string(node) {
            let parts = time.split(separator: ":").compactMap { Int($0) }
            if parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) {
                minuteOfDay = parts[0] * 60 + parts[1]
            } else {
                reader.report(node, "a time of day expected, such as \"08:00\" (in tz, UTC by default)")
            }
        }
        var timeZone: TimeZone? = .gmt
        if let node = fields["tz"], let name = reader.string(node) {
            do { timeZone = try ReportWindow.timeZone(named: name, option: "tz") } catch {
                reader.report(node, error.description)
                timeZone = nil
            }
        }
        let window: ReportSchedule.Window? =
            if let node = fields["window"] { Self.window(node, reader) } else { .lasting(7 * 86400) }
        let network = fields["network"].flatMap(reader.string)
        guard let channel = reader.required("channel", in: fields).flatMap(reader.string), let minuteOfDay, let window,
              let timeZone
        else { return nil }
        return ReportSchedule(channel: channel, network: network, minuteOfDay: minuteOfDay, window: window,
                              timeZone: timeZone)
    }

    /// - Parameter firstNetwork: the network the notices go to when `network` names none: a
    ///   mention is written in that network's form.
    private static func tasks(_ fields: ConfigurationMapping, firstNetwork: String,
                              _ reader: ConfigurationReader) -> TaskNoticeSettings? {
        reader.only(["channel", "owners", "network", "escalate"], in: fields)
        var owners: [String: String] = [:]
        if let node = fields["owners"] {
            for (owner, channel) in reader.mapping(node)?.entries ?? [] { owners[owner] = reader.string(channel) }
        }
        let network = fields["network"].flatMap(reader.string)
        let escalate = fields["escalate"].map { escalation($0, mentionsOn: network ?? firstNetwork, reader) } ?? []
        guard let channel = reader.required("channel", in: fields).flatMap(reader.string) else { return nil }
        return TaskNoticeSettings(channel: channel, owners: owners, network: network, escalate: escalate)
    }

    /// `escalate: [{ after: 30m }, { after: 2h, channel: "#soc-leads", mention: "<@U0123ABCD>" }]`,
    /// each `after` longer than the one before: two stages of one `after` would share a position
    /// (`TaskEscalation.positionKey`), and a list that reads as a ladder shows a slip (`2h` before
    /// `30m`) at start rather than at 3 a.m.
    private static func escalation(_ node: ConfigurationValue, mentionsOn network: String,
                                   _ reader: ConfigurationReader) -> [TaskEscalation] {
        var stages: [TaskEscalation] = []
        for item in reader.sequence(node) ?? [] {
            guard let fields = reader.mapping(item) else { continue }
            reader.only(["after", "channel", "mention"], in: fields)
            var mentions: [String] = []
            if let node = fields["mention"], let text = reader.string(node) {
                mentions = text.split(separator: " ").map(String.init)
                for problem in mentions.compactMap({ ChatMention.problem($0, on: network) }) {
                    reader.report(node, problem)
                }
            }
            guard let afterNode = reader.required("after", in: fields), let after = reader.duration(afterNode) else {
                continue
            }
            if let before = stages.last, after <= before.after {
                reader.report(afterNode, "the stages go in order, each after a longer time than the one before: "
                    + "this one comes after \(DurationText.text(before.after))")
                continue
            }
            let channel = fields["channel"].flatMap(reader.string)
            stages.append(TaskEscalation(after: after, channel: channel, mentions: mentions))
        }
        return stages
    }

    /// `window: 7d` (the time before the report) or `window: yesterday` (a calendar period of tz).
    private static func window(_ node: ConfigurationValue, _ reader: ConfigurationReader) -> ReportSchedule.Window? {
        guard let text = reader.string(node) else { return nil }
        if let period = ReportPeriod(rawValue: text) { return .period(period) }
        guard let seconds = DurationText.seconds(text), seconds > 0 else {
            reader.report(node, "\(DurationText.expected), or a calendar period of tz: \(ReportPeriod.names)")
            return nil
        }
        return .lasting(seconds)
    }

    private static func matrix(_ fields: ConfigurationMapping, _ reader: ConfigurationReader) -> MatrixConfiguration? {
        reader.only(["homeserver", "user", "access_token", "password", "invites_from"], in: fields)
        var credential: MatrixConfiguration.Credential?
        if let token = fields["access_token"] {
            credential = reader.string(token).map { .accessToken($0) }
        } else if let password = fields["password"] {
            credential = reader.string(password).map { .password($0) }
        } else {
            reader.report(fields.value, "give access_token or password")
        }
        let invitesFrom = fields["invites_from"].flatMap(reader.strings)
        var homeserver: String?
        if let node = reader.required("homeserver", in: fields), let url = reader.string(node) {
            // Without a scheme every request fails (invalidURL), again and again: said here instead.
            if url.hasPrefix("https://") || url.hasPrefix("http://") {
                homeserver = url
            } else {
                reader.report(node, "a URL with its scheme expected: https://\(url) (or http:// on loopback)")
            }
        }
        let user = reader.required("user", in: fields).flatMap(reader.string)
        guard let homeserver, let user, let credential
        else { return nil }
        return MatrixConfiguration(homeserver: homeserver, userID: user, credential: credential, invitesFrom: invitesFrom)
    }
}
