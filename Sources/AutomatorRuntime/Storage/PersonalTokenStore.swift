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

    public init(name: String, sha256: String, createdAt: Date, createdBy: String, revokedAt: Date? = nil) {
        self.name = name
        self.sha256 = sha256
        self.createdAt = createdAt.roundedToMilliseconds
        self.createdBy = createdBy
        self.revokedAt = revokedAt?.roundedToMilliseconds
    }
}
