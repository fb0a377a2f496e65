/// Where and as whom the bot signs in to Matrix.
///
/// ```swift
/// let configuration = MatrixConfiguration(homeserver: "https://matrix.example.org",
///                                         userID: "@automator:example.org",
///                                         credential: .password(secret))
/// ```
public struct MatrixConfiguration: Sendable, Hashable {
    /// How the bot proves it is `userID`.
    public enum Credential: Sendable, Hashable {
        /// A token from an earlier login (Element's "Access Token", or the admin API's).
        case accessToken(String)
        /// Logged in with `m.login.password` on each start; the token it returns is kept in memory.
        case password(String)
    }

    /// The client-server API's base URL, `https://matrix.example.org` (no path).
    public var homeserver: String
    /// The bot's full user id, `@automator:example.org`.
    public var userID: String
    public var credential: Credential
    /// The name of the device a password login creates, shown in the account's session list.
    public var deviceName: String
    /// Who may invite the bot into a room: user ids (`@alice:example.org`) and server names
    /// (`example.org`: anyone with an account there). By default the bot's own server: on a
    /// federated network anyone anywhere could otherwise invite it, read its answers and use
    /// its lookups.
    public var invitesFrom: [String]

    public init(homeserver: String, userID: String, credential: Credential, deviceName: String = "Automator",
                invitesFrom: [String]? = nil)
    {
        // One trailing slash or none: paths are appended as `/_matrix/...`.
        self.homeserver = homeserver.hasSuffix("/") ? String(homeserver.dropLast()) : homeserver
        self.userID = userID
        self.credential = credential
        self.deviceName = deviceName
        self.invitesFrom = invitesFrom ?? [MatrixID.server(userID)]
    }

    /// Whether `user` may invite the bot (`invitesFrom`).
    func mayInvite(_ user: String) -> Bool {
        invitesFrom.contains(user) || invitesFrom.contains(MatrixID.server(user))
    }
}
