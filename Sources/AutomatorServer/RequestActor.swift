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
}
