package import AutomatorRuntime
import Foundation

/// Making, listing, rotating and revoking personal API tokens, as `/api/v1/tokens` and `automator
/// token` on a folder no server holds both do it: the answers are the API's JSON, so that the CLI
/// prints one thing either way.
package enum PersonalTokens {
    /// Why a request to manage tokens was refused.
    package struct Refusal: Error, CustomStringConvertible {
        package enum Kind { case invalid, conflict, notFound }
        package let kind: Kind
        package let description: String
    }

    /// Makes a token for `name`, for `/metrics` alone when `metricsOnly`, for posting alerts to
    /// `/api/v1/ingest/SOURCE` alone when `ingestOnly` names the source: `{"name", "token",
    /// "created_at", "created_by", "metrics_only", "ingest_only"}`, the only place the token is
    /// ever seen.
    ///
    /// - Throws: `Refusal` for a name that cannot name a token or has one already, a source that is
    ///   no name, or a token asked to be both metrics-only and ingest-only; `StoreError`.
    package static func add(_ name: String, by creator: String, metricsOnly: Bool = false, ingestOnly: String? = nil,
                            in store: any PersonalTokenStore) async throws -> String
    {
        if let problem = PersonalToken.nameProblem(name) { throw Refusal(kind: .invalid, description: problem) }
        if let source = ingestOnly {
            if let problem = IngestSource.problem(source) { throw Refusal(kind: .invalid, description: problem) }
            if metricsOnly {
                throw Refusal(kind: .invalid, description: "a token is metrics-only or ingest-only, not both: make "
                    + "one of each, under two names")
            }
        }
        let (secret, token) = PersonalToken.make(name: name, by: creator, metricsOnly: metricsOnly,
                                                 ingestOnly: ingestOnly)
        try await refusing { try await store.addPersonalToken(token) }
        return made(token, secret)
    }

    /// Gives `name` a new token in place of its live one, which is refused from the next request
    /// on: as `add` answers.
    ///
    /// - Throws: `Refusal` when `name` has no live token; `StoreError`.
    package static func rotate(_ name: String, by creator: String, in store: any PersonalTokenStore) async throws
        -> String
    {
        let now = Date()
        let (secret, token) = PersonalToken.make(name: name, by: creator, at: now)
        let kept = try await refusing { try await store.rotatePersonalToken(to: token, at: now) }
        return made(kept, secret)
    }

    /// `{"tokens": [{"name", "created_at", "created_by", "revoked_at", "metrics_only", "ingest_only",
    /// "last_used_at"}]}`, `ingest_only` the source or null:
    /// never a token, which the store does not have.
    package static func list(in store: any PersonalTokenStore) async throws -> String {
        #"{"tokens":"# + JSONText.array(try await store.personalTokens().map { object($0).text }) + "}"
    }

    /// Revokes the live token of `name`: `{"name", "revoked_at"}`.
    ///
    /// - Throws: `Refusal` when `name` has no live token; `StoreError`.
    package static func revoke(_ name: String, in store: any PersonalTokenStore) async throws -> String {
        let now = Date()
        try await refusing { try await store.revokePersonalToken(named: name, at: now) }
        var json = JSONText.Object()
        json["name"] = JSONText.string(name)
        json["revoked_at"] = JSONText.time(now)
        return json.text
    }

    /// The store's refusals as `Refusal`s, which the API answers 409 and 404.
    private static func refusing<T>(_ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch let error as StoreError where error.kind == .conflict {
            throw Refusal(kind: .conflict, description: error.description)
        } catch let error as StoreError where error.kind == .notFound {
            throw Refusal(kind: .notFound, description: error.description)
        }
    }

    private static func made(_ token: PersonalToken, _ secret: String) -> String {
        var json = object(token)
        json["token"] = JSONText.string(secret)
        return json.textWithoutNulls
    }

    private static func object(_ token: PersonalToken) -> JSONText.Object {
        var json = JSONText.Object()
        json["name"] = JSONText.string(token.name)
        json["created_at"] = JSONText.time(token.createdAt)
        json["created_by"] = JSONText.string(token.createdBy)
        json["revoked_at"] = token.revokedAt.map(JSONText.time)
        json["metrics_only"] = token.metricsOnly ? "true" : "false"
        json["ingest_only"] = token.ingestOnly.map(JSONText.string)
        json["last_used_at"] = token.lastUsedAt.map(JSONText.time)
        return json
    }
}
