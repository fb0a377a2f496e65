import Foundation
import Hummingbird

/// Who made a request, for the journal and `automator audit`.
///
/// With a personal token, its name and no other: `api:alice`. A body's `"by"` naming someone else
/// is refused (403) rather than journaled under the wrong name, and `X-Automator-Actor` is
/// ignored: the CLI sends it on every request with the account's name, which is not for the
/// token's holder to choose, and the token's name is the truth the journal needs.
///
/// With the server's shared token, as before personal tokens: `api:NAME` with the body's
/// `"by": NAME`, `api` without. The CLI names itself in `X-Automator-Actor` (`cli:alice`) and is
/// `cli:…` either way, as when it works on the folder with no server: one person, one name in the
/// audit, whether a server holds the folder or not. The shared token is the operator's, as
/// powerful as the data folder: its holder may name anyone.
enum RequestActor {
    static func of(_ request: Request, _ context: APIRequestContext, by name: String? = nil) throws(APIError) -> String {
        switch context.authenticated {
        case .person(let holder):
            if let name, name != holder {
                throw APIError(status: .forbidden, message: "this token is \(holder)'s: it acts as \(holder) only, not as "
                    + "\(name). Leave \"by\" out, or have \(name) send their own token")
            }
            return "api:" + holder
        case .operator:
            let claimed = request.headers[.init("X-Automator-Actor")!]
            guard let claimed, claimed == "cli" || claimed.hasPrefix("cli:") else { return name.map { "api:" + $0 } ?? "api" }
            return name.map { "cli:" + $0 } ?? claimed
        }
    }

    /// A body's `"by"`: absent, or who does it. An empty or non-text one is refused rather than
    /// journaled as `api:` or ignored, and so is one with a control character: a newline in it
    /// made a line of its own in `journal show` and `audit`, another actor's entry to read.
    static func by(in object: [String: Any]) throws(APIError) -> String? {
        guard let value = object["by"] else { return nil }
        guard let name = value as? String, !name.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw .badRequest(#""by" names who does it, such as "by": "alice""#)
        }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest(#""by" is a name on one line, without control characters, such as "by": "alice""#)
        }
        return name
    }
}
