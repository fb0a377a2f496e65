import Foundation
import Hummingbird

/// Who made a request, for the journal and `automator audit`: `api:NAME` with the body's
/// `"by": NAME`, `api` without. The CLI names itself in `X-Automator-Actor` (`cli:alice`) and is
/// `cli:…` either way, as when it works on the folder with no server: one person, one name in
/// the audit, whether a server holds the folder or not. A token holder could claim any name in
/// `by` already; the header adds no trust.
enum RequestActor {
    static func of(_ request: Request, by name: String? = nil) -> String {
        let claimed = request.headers[.init("X-Automator-Actor")!]
        guard let claimed, claimed == "cli" || claimed.hasPrefix("cli:") else { return name.map { "api:" + $0 } ?? "api" }
        return name.map { "cli:" + $0 } ?? claimed
    }

    /// A body's `"by"`: absent, or who does it. An empty or non-text one is refused rather than
    /// journaled as `api:` or ignored.
    static func by(in object: [String: Any]) throws(APIError) -> String? {
        guard let value = object["by"] else { return nil }
        guard let name = value as? String, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .badRequest(#""by" names who does it, such as "by": "alice""#)
        }
        return name
    }
}
