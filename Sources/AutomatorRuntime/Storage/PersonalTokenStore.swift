public import Foundation

/// The personal API tokens, kept in the store so that every worker on a shared database knows
/// them: each by its SHA-256 only, so that reading the store (a backup, a replica, a `store
/// copy`) gives no one a token that works. A name has one live token at a time; a revoked one
/// stays listed, for the audit.
///
/// ```swift
/// let (secret, token) = PersonalToken.make(name: "alice", by: "cli:root")
/// try await store.addPersonalToken(token)               // hand `secret` to alice, once
/// try await store.livePersonalToken(sha256: PersonalToken.digest(of: secret))?.name  // "alice"
/// let (next, rotated) = PersonalToken.make(name: "alice", by: "cli:root")
/// try await store.rotatePersonalToken(to: rotated, at: Date())  // hand `next` to alice; the first is refused
/// try await store.revokePersonalToken(named: "alice", at: Date())
/// ```
public protocol PersonalTokenStore: Store {
    /// Keeps a new token. Refused (`.conflict`) while its name has a live token.
    func addPersonalToken(_ token: PersonalToken) async throws(StoreError)

    /// Every token, live and revoked, by name, the newest of a name first.
    func personalTokens() async throws(StoreError) -> [PersonalToken]

    /// The live token whose SHA-256 (hexadecimal) is `sha256`; nil when there is none, or it is revoked.
    func livePersonalToken(sha256: String) async throws(StoreError) -> PersonalToken?

    /// Revokes the live token of `name`. Refused (`.notFound`) when it has none.
    func revokePersonalToken(named name: String, at: Date) async throws(StoreError)

    /// Revokes the live token of `token.name` at `at` and keeps `token` in its place, at once: its
    /// holder is never without one, and the old one never lives beside the new. The new one takes
    /// the old one's `metricsOnly` and `ingestOnly`. Refused (`.notFound`) when the name has no live token.
    ///
    /// - Returns: the token kept.
    func rotatePersonalToken(to token: PersonalToken, at: Date) async throws(StoreError) -> PersonalToken

    /// Notes that the token whose SHA-256 is `sha256` was used at `at`, for `automator token list`.
    func notePersonalTokenUse(sha256: String, at: Date) async throws(StoreError)
}

/// A personal API token as the store keeps it: whose it is, and its SHA-256, never the token.
public struct PersonalToken: Sendable, Hashable {
    /// Whose it is (`alice`, `siem-connector`): a request with it is `api:NAME`.
    public var name: String
    /// The token's SHA-256, hexadecimal.
    public var sha256: String
    public var createdAt: Date
    /// Who made it, as the journal names them (`cli:root`, `api`).
    public var createdBy: String
    public var revokedAt: Date?
    /// A token for Prometheus: it scrapes `/metrics` and is refused everywhere else, so that the
    /// file a monitoring host keeps it in opens nothing more.
    public var metricsOnly: Bool
    /// The source of a token for a webhook (`splunk`): it posts alerts to `/api/v1/ingest/SOURCE`
    /// and is refused everywhere else, and it alone may travel in a URL (`?token=`), which proxies
    /// log and the sender's configuration keeps. Nil for any other token.
    public var ingestOnly: String?
    /// When a request last carried it, to the minute (`PersonalToken.useNoted`); nil if none has.
    public var lastUsedAt: Date?

    public init(name: String, sha256: String, createdAt: Date, createdBy: String, revokedAt: Date? = nil,
                metricsOnly: Bool = false, ingestOnly: String? = nil, lastUsedAt: Date? = nil)
    {
        self.name = name
        self.sha256 = sha256
        self.createdAt = createdAt.roundedToMilliseconds
        self.createdBy = createdBy
        self.revokedAt = revokedAt?.roundedToMilliseconds
        self.metricsOnly = metricsOnly
        self.ingestOnly = ingestOnly
        self.lastUsedAt = lastUsedAt?.roundedToMilliseconds
    }

    /// How stale `lastUsedAt` may be: a request notes its use only when the last one noted is
    /// older, so that a busy integration costs a write a minute, not a write a request.
    public static let useNoted: TimeInterval = 60

    /// Whether a request at `now` should note its use.
    public func useIsStale(at now: Date) -> Bool {
        lastUsedAt.map { now.timeIntervalSince($0) >= Self.useNoted } ?? true
    }
}
