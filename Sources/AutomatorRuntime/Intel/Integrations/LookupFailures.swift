public import Foundation
import Logging
import Synchronization

/// Says in the log that an integration's lookups (or its fetch's runs) fail: one line for each
/// cause (the error, the indicator taken out of it) until one succeeds again, then one line saying
/// so with how many failed meanwhile. A revoked key (401) failed every lookup, and each was a
/// warning with a traceback: hundreds of lines an hour at 3 a.m. saying one thing, burying the rest.
package final class LookupFailures: Sendable {
    /// What fails: a lookup, or a run of the integration's fetch, and where its error is seen whole.
    enum Activity {
        case lookup
        case fetch

        var noun: String { self == .lookup ? "lookup" : "fetch" }
        var plural: String { self == .lookup ? "lookups" : "fetches" }
        var whereSeen: String {
            self == .lookup ? "automator intel lookup VALUE shows a lookup's error" : "automator fetch list shows the last error"
        }
    }

    private struct State {
        /// The causes logged since the last success.
        var causes: Set<String> = []
        /// The lookups failed since the last success, and when the first did.
        var failed = 0
        var since: Date?
        /// Whether the line saying that new causes are no longer logged was written.
        var capped = false
    }

    /// How many different causes are logged between two successes: an error that names each
    /// indicator in its own words would otherwise be a line a lookup again.
    package static let mostCauses = 5

    private let name: String
    private let activity: Activity
    private let logger: Logger
    private let state = Mutex(State())

    init(name: String, of activity: Activity = .lookup, logger: Logger) {
        self.name = name
        self.activity = activity
        self.logger = logger
    }

    /// Since when its lookups fail, and how many have, until one succeeds; nil while they do not.
    var current: LookupFailureState? {
        state.withLock { state in state.since.map { LookupFailureState(since: $0, failed: state.failed) } }
    }

    /// A lookup of `value` failed with `message` (the script's error, without its traceback).
    func failed(_ message: String, value: String, at now: Date = Date()) {
        let oneLine = message.replacingOccurrences(of: "\n", with: "; ")
        let cause = value.isEmpty ? oneLine : oneLine.replacingOccurrences(of: value, with: "…")
        let line: String? = state.withLock { state in
            if state.since == nil { state.since = now }
            state.failed += 1
            if state.causes.contains(cause) { return nil }
            let activity = self.activity
            guard state.causes.count < Self.mostCauses else {
                defer { state.capped = true }
                return state.capped ? nil : """
                    integration \(name): its \(activity.plural) fail for more reasons than \(Self.mostCauses); no more are \
                    logged until one succeeds (\(activity.whereSeen))
                    """
            }
            state.causes.insert(cause)
            return """
                integration \(name): a \(activity.noun) failed: \(oneLine) (logged once until a \(activity.noun) succeeds; \
                the next ones with this error are counted)
                """
        }
        if let line { logger.warning("\(line)") }
    }

    /// A lookup succeeded: if some failed before it, the log says how many, once.
    func succeeded() {
        let ended: (failed: Int, since: Date)? = state.withLock { state in
            guard let since = state.since else { return nil }
            defer { state = State() }
            return (state.failed, since)
        }
        guard let ended else { return }
        let since = ended.since.formatted(Date.ISO8601FormatStyle()).dropFirst(11).prefix(8)
        logger.notice("""
            integration \(name): \(activity.plural) succeed again, after \(ended.failed.counted("failed \(activity.noun)", "failed \(activity.plural)")) \
            since \(since) UTC
            """)
    }
}

/// An integration's lookups failing, as `/healthz` and `/metrics` show it: since the first failure
/// after the last success, and how many. Not why: `/healthz` answers without a token, and an error
/// may quote the service's answer; the log has it.
public struct LookupFailureState: Sendable, Hashable {
    public var since: Date
    public var failed: Int
}
