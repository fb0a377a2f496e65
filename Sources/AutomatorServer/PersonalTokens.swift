package import AutomatorRuntime
import Foundation

/// Making, listing and revoking personal API tokens, as `/api/v1/tokens` and `automator token`
/// on a folder no server holds both do it: the answers are the API's JSON, so that the CLI
/// prints one thing either way.
package enum PersonalTokens {
    /// Why a request to manage tokens was refused.
    package struct Refusal: Error, CustomStringConvertible {
        package enum Kind { case invalid, conflict, notFound }
        package let kind: Kind
        package let description: String
    }

    /// Makes a token for `name`: `{"name", "token", "created_at", "created_by"}`, the only place
    /// the token is ever seen.
    ///
    /// - Throws: `Refusal` for a name that cannot name a token or has one already; `StoreError`.
    package static func add(_ name: String, by creator: String, in store: any PersonalTokenStore) async throws
        -> String
    {
        if let problem = PersonalToken.nameProblem(name) { throw Refusal(kind: .invalid, description: problem) }
        let (secret, token) = PersonalToken.make(name: name, by: creator)
        do throws(StoreError) { try await store.addPersonalToken(token) } catch {
            throw error.kind == .conflict ? Refusal(kind: .conflict, description: error.description) : error
        }
        var json = object(token)
        json["token"] = JSONText.string(secret)
        return json.textWithoutNulls
    }

    /// `{"tokens": [{"name", "created_at", "created_by", "revoked_at"}]}`: never a token, which the store does not have.
    package static func list(in store: any PersonalTokenStore) async throws -> String {
        #"{"tokens":"# + JSONText.array(try await store.personalTokens().map { object($0).text }) + "}"
    }

    /// Revokes the live token of `name`: `{"name", "revoked_at"}`.
    ///
    /// - Throws: `Refusal` when `name` has no live token; `StoreError`.
    package static func revoke(_ name: String, in store: any PersonalTokenStore) async throws -> String {
        let now = Date()
        do throws(StoreError) { try await store.revokePersonalToken(named: name, at: now) } catch {
            throw error.kind == .notFound ? Refusal(kind: .notFound, description: error.description) : error
        }
        var json = JSONText.Object()
        json["name"] = JSONText.string(name)
        json["revoked_at"] = JSONText.time(now)
        return json.text
    }

    private static func object(_ token: PersonalToken) -> JSONText.Object {
        var json = JSONText.Object()
        json["name"] = JSONText.string(token.name)
        json["created_at"] = JSONText.time(token.createdAt)
        json["created_by"] = JSONText.string(token.createdBy)
        json["revoked_at"] = token.revokedAt.map(JSONText.time)
        return json
    }
}
