public import Foundation
import Logging
import Synchronization

/// How long an integration rests after its service failed in a way that says "not now".
public struct PausePolicy: Sendable {
    /// The pause after the first failure; twice as long after each failed probe.
    public var first: Duration
    /// The longest pause, and the most a `Retry-After` is honoured.
    public var longest: Duration

    public init(first: Duration, longest: Duration) {
        self.first = first
        self.longest = longest
    }

    /// A minute, then two, four, up to five while it keeps failing.
    public static let integration = PausePolicy(first: .seconds(60), longest: .seconds(300))
}

/// An integration's pause as `/healthz` and `/metrics` show it while it holds lookups back
/// (`Integrations.Status.isPaused`): since its service's first failure since it last answered,
/// until the current pause ends.
public struct PauseState: Sendable, Hashable, Codable {
    /// The failure that started the current pause: `timed out after 5 s at 21:05:40 UTC`.
    public var reason: String
    /// When the service first failed since it last answered.
    public var since: Date
    /// When the current pause ends and one lookup asks again; past while none has yet.
    public var until: Date
}

/// The rest of one integration's lookups after their service timed out, could not be reached, or
/// answered 429 or 5xx, once its retries were spent (its actions' requests tell it nothing, and it
/// holds none back): until it ends, lookups answer at once saying why rather than
/// each waiting its timeout and retries again (with a 30 s timeout, minutes a chat message). When
/// it ends one lookup probes while the others still answer at once; a response that is not 429 or
/// 5xx ends it. Kept per process: a worker that finds the service down learns it itself, in one
/// lookup.
final class IntegrationPause: Sendable {
    private struct State {
        /// The failure that started the current pause (`timed out after 5 s at 21:05:40 UTC`).
        var why = ""
        /// The first failure since the service last answered.
        var since: Date?
        var until: Date?
        /// Failures in a row, for the pause's doubling.
        var failures = 0
        var probing = false
    }

    private let name: String
    private let policy: PausePolicy
    private let logger: Logger
    private let state = Mutex(State())

    init(name: String, policy: PausePolicy, logger: Logger) {
        self.name = name
        self.policy = policy
        self.logger = logger
    }

    /// The pause under way, if any.
    var current: PauseState? {
        state.withLock { state in
            guard let since = state.since, let until = state.until else { return nil }
            return PauseState(reason: state.why, since: since, until: until)
        }
    }

    /// Whether its lookups are held back at `now`: its pause has not ended, or it has and one
    /// lookup is asking the service again while the others still answer at once. False once the
    /// end passed with no lookup since: the next one asks.
    func holdsLookups(at now: Date = Date()) -> Bool {
        state.withLock { state in
            guard let until = state.until else { return false }
            return until > now || state.probing
        }
    }

    /// Whether a lookup may ask the service now.
    enum Admission {
        /// It is paused, and why, to read after its name: `paused until 21:06:40 UTC (timed out
        /// after 5 s at 21:05:40 UTC)`; and the pause.
        case refused(String, PauseState)
        case ask
        /// The pause ended and this lookup is the one that asks; `probeEnded()` when it is done.
        case probe
    }

    func admit(at now: Date = Date()) -> Admission {
        state.withLock { state in
            guard let until = state.until, let since = state.since else { return .ask }
            if until <= now, !state.probing {
                state.probing = true
                return .probe
            }
            let paused = until <= now ? "paused while another lookup asks it again" : "paused until \(Self.clock(until)) UTC"
            return .refused("\(paused) (\(state.why))", PauseState(reason: state.why, since: since, until: until))
        }
    }

    /// The probe ended: one that neither failed nor was answered (its script failed before
    /// asking) leaves the next lookup to probe.
    func probeEnded() {
        state.withLock { $0.probing = false }
    }

    /// The service answered with something other than 429 or 5xx: it is back.
    func answered() {
        let was = state.withLock { state in
            defer { state = State() }
            return state.until
        }
        if was != nil { logger.info("integration \(name) answers again: lookups ask it again") }
    }

    /// The service failed, its retries spent: `what` happened (`timed out after 5 s`,
    /// `answered 429`); `retryAfter` is the wait a 429's or 503's `Retry-After` asks for (`RetryAfter`).
    func failed(_ what: String, retryAfter: Duration? = nil, at now: Date = Date()) {
        let started: (until: Date, first: Bool)? = state.withLock { state in
            // A lookup that set out before the pause began is not a new failure of the service.
            if let until = state.until, until > now, !state.probing { return nil }
            state.failures += 1
            if state.since == nil { state.since = now }
            var pause = policy.first * (1 << min(state.failures - 1, 16))
            if let retryAfter, retryAfter > .zero { pause = retryAfter }
            pause = min(pause, policy.longest)
            let until = now.addingTimeInterval(Double(pause.components.seconds)
                                                + Double(pause.components.attoseconds) / 1e18)
            state.why = "\(what) at \(Self.clock(now)) UTC"
            state.until = until
            state.probing = false
            return (until, state.failures == 1)
        }
        guard let started else { return }
        if started.first {
            logger.warning("""
                integration \(name) \(what): not asked until \(Self.clock(started.until)) UTC, its lookups answer \
                unknown at once meanwhile
                """)
        } else {
            logger.warning("integration \(name) still \(what): not asked until \(Self.clock(started.until)) UTC")
        }
    }

    /// `21:06:40`.
    private static func clock(_ date: Date) -> Substring {
        date.formatted(Date.ISO8601FormatStyle()).dropFirst(11).prefix(8)
    }
}
