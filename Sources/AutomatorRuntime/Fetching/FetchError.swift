/// Why a fetch failed, in words fit for the log, `/healthz`'s log line and `automator fetch list`
/// (the integration's secrets blanked out).
public struct FetchError: Error, Sendable, CustomStringConvertible {
    public var message: String

    init(_ message: String) { self.message = message }

    public var description: String { message }
}
