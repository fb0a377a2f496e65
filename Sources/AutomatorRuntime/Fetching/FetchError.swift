/// Why a fetch failed, in words fit for the log, `/healthz`'s log line and `automator fetch list`
/// (the integration's secrets blanked out).
public struct FetchError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// No integration in use declares the fetch asked for.
        case notDeclared
        /// It is running now: a fetch never runs twice at once.
        case running
        /// Asked of a worker that does not lead: the leader alone ingests pages.
        case notLeading
        /// The service, the script or the store failed: the cursor stays where it was.
        case failed
    }

    public var kind: Kind
    public var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// A failure of the service, the script or the store.
    init(_ message: String) { self.init(.failed, message) }

    public var description: String { message }
}
