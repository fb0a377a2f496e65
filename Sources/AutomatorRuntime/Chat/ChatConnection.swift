public import Foundation
import Logging
import Synchronization

/// A chat network's connection as an operator needs to see it: whether the bot is connected,
/// since when, and when the network last delivered an event (`/healthz`, `/metrics`). It keeps
/// the log to one line when it first connects (who, where: an operator starting the server sees
/// the bot is up, where only a problem was logged), one when the connection is lost, with the real
/// wait before the next attempt, and one when it is back: a homeserver down for an hour said so at every attempt, twice (the
/// receiving loop and the connecting one), and never that it was back. A problem of another kind
/// meanwhile (the password refused once it answers) is logged too.
public final class ChatConnection: Sendable {
    public struct Status: Sendable {
        /// `matrix`.
        public var network: String
        public var connected = false
        /// When it connected, or lost the connection; when the server started, before either.
        public var since = Date()
        /// When the network last delivered an event (a message, an invite); nil before the first.
        public var lastEvent: Date?
        /// Why the last attempt failed; nil while connected or before the first attempt.
        public var problem: String?
    }

    /// How the log names the network: `Matrix`.
    private let name: String
    /// The status, the kind of problem last logged (`unavailable`; nil while connected), and
    /// whether it has connected since the server started.
    private let state: Mutex<(status: Status, logged: String?, hasConnected: Bool)>
    private let logger: Logger

    init(network: String, name: String, logger: Logger) {
        self.name = name
        self.logger = logger
        state = Mutex((Status(network: network), nil, false))
    }

    public var status: Status { state.withLock { $0.status } }

    /// The network answered: logged the first time, as `who` (`@automator:example.org on
    /// https://matrix.example.org`), and when it comes back after a problem.
    func connected(as who: String? = nil) {
        let (first, away) = state.withLock { state -> (Bool, TimeInterval?) in
            guard !state.status.connected else { return (false, nil) }
            defer {
                (state.status.connected, state.status.since, state.status.problem) = (true, Date(), nil)
                state.logged = nil
                state.hasConnected = true
            }
            return (!state.hasConnected, state.logged == nil ? nil : Date().timeIntervalSince(state.status.since))
        }
        if let away {
            logger.notice("\(name): connected\(first ? "" : " again"), after \(DurationText.span(away)) without it")
        } else if first {
            logger.info("\(name): connected\(who.map { " as \($0)" } ?? "")")
        }
    }

    /// An attempt failed; the next is in `delay`. Logged when the connection was there, or the
    /// problem is of another kind than the one logged: not at each attempt while the network is away.
    func failed(_ error: any Error, retryingIn delay: Duration) {
        let problem = "\(error)"
        let kind = (error as? ChatError).map { "\($0.kind)" } ?? "\(type(of: error))"
        let isNew = state.withLock { state in
            if state.status.connected { (state.status.connected, state.status.since) = (false, Date()) }
            state.status.problem = problem
            defer { state.logged = kind }
            return state.logged != kind
        }
        if isNew {
            logger.warning("""
                \(name): \(problem); trying again in \(delay.formatted), then less and less often while it \
                fails (the log says when it is back)
                """)
        }
    }

    /// The network delivered an event.
    func received() {
        state.withLock { $0.status.lastEvent = Date() }
    }
}
