import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The store's connections: postgres-nio's pool (`PostgresClient`), with a bound on the wait for a
/// connection, and what this worker knows of whether the database is there.
///
/// While it cannot connect, postgres-nio's pool keeps each request waiting until a connection is
/// made or its circuit breaker trips, a minute after the first failure (a setting `PostgresClient`
/// does not expose): with the database down, a request took 66 s to fail, and a stopping server
/// waited as long to give its leases up. The pool then tries again after a backoff that grows to a
/// minute, so after a long outage it came back up to a minute after the database did. So:
///
/// - A connection is waited for at most the connect timeout; then a lone connection (`look`) says
///   whether the database is there, and why not (the pool only says that it could not connect). If
///   it is away, the operation fails with that reason; if it is there, the pool is busy or in its
///   backoff, and the wait goes on: a busy database is not a lost one.
/// - While the database is away, operations fail at once (`StoreError.databaseAway`), and the
///   database is looked at again at most once a `recheck`, by whoever needs it then: a request, the
///   leases' renewal, a health check.
/// - When it is back, the pool is made anew, without its backoff.
/// - The log says once that the database went away, every `reminder` that it still is, and once
///   that it is back.
final class PostgresPool: Sendable {
    private let location: PostgresLocation
    private let configuration: PostgresClient.Configuration
    private let password: String?
    private let application: String
    private let logger: Logger
    private let state: Mutex<State>

    /// How long an answer about the database stays good: while it is away, operations fail at once
    /// for this long before one looks again.
    static let recheck: Duration = .seconds(1)
    /// How often the log says again that the database is still away.
    static let reminder: Duration = .seconds(300)

    private struct State {
        var pool: Generation
        var closed = false
        /// Since when the database is away, why, and when the log last said so; nil while it answers.
        var away: (since: ContinuousClock.Instant, error: StoreError, said: ContinuousClock.Instant)?
        /// When the database last answered, or was found away.
        var known: ContinuousClock.Instant?
        /// The look under way, which whoever needs one meanwhile waits for.
        var looking: Task<StoreError?, Never>?
    }

    /// No connection came from the pool: it refused (`cause`), or none within the connect timeout.
    private struct NoConnection: Error, CustomStringConvertible {
        var cause: (any Error)?
        var description: String {
            cause.map(PostgresStore.reason) ?? "no connection within \(PostgresLocation.connectTimeout)"
        }
    }

    init(location: PostgresLocation, password: String?, application: String, logger: Logger) throws(StoreError) {
        self.location = location
        self.password = password
        self.application = application
        configuration = try location.clientConfiguration(password: password, application: application)
        // The pool says at every try that it could not connect: this type says it once.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        self.logger = quiet
        state = Mutex(State(pool: Generation(configuration, logger: quiet)))
    }

    /// Runs `body` on a connection of the pool.
    ///
    /// - Throws: `StoreError`: `.databaseAway` when the database cannot be reached (at once while
    ///   it is known to be away), what `body` threw otherwise, `.closed` after `close()`.
    func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws(StoreError) -> T {
        try await admit()
        var renewed = false
        while true {
            let pool = try state.withLock { state throws(StoreError) in
                guard !state.closed else { throw .closed }
                return state.pool
            }
            do {
                // An operation still unanswered after the connect timeout may be on a connection to a
                // database gone silent (a host powered off, a network cut): a look finds out, and
                // ends the pool's connections if so.
                let value = try await pool.lease(body, slow: { Task { [self] in _ = await look() } })
                settle(nil)
                return value
            } catch let error as NoConnection {
                if Task.isCancelled { throw PostgresStore.storeError(error, location: location) }
                if let away = await away() { throw away }
                // The database is there. A pool that is busy, or in its backoff after failing to
                // connect, is waited for again; one that refused at once (its circuit breaker, or
                // replaced meanwhile) is made anew, once.
                if error.cause != nil {
                    guard !renewed else { throw PostgresStore.storeError(error, location: location) }
                    renewed = true
                    renew(pool)
                }
            } catch {
                let failure = PostgresStore.storeError(error, location: location)
                guard !Task.isCancelled, PostgresStore.mayBeAway(error) else { throw failure }
                throw await away() ?? failure
            }
        }
    }

    /// Whether the database is there: nil, or why not. From what is known if it is recent (every
    /// statement answered says it is there), else from a look.
    func check() async -> StoreError? {
        let (known, away) = state.withLock { ($0.known, $0.away?.error) }
        if let known, ContinuousClock.now - known < Self.recheck { return away }
        return await look()
    }

    /// Ends the pool: its connections close, and what waits for one fails.
    func close() async {
        let pool = state.withLock { state in
            state.closed = true
            return state.pool
        }
        await pool.end()
    }

    /// Replaces `old` if it is still the pool: its backoff after failing to connect may outlast an
    /// outage by a minute. Its waiting requests fail, and are tried again on the new one; it ends
    /// once its leased connections are back, or `now`.
    private func renew(_ old: Generation, now: Bool = false) {
        let new = Generation(configuration, logger: logger)
        let replaced = state.withLock { state in
            guard !state.closed, state.pool === old else { return false }
            state.pool = new
            return true
        }
        guard replaced else { return new.retire() }
        if now { Task { await old.end() } } else { old.retire() }
    }

    // MARK: Whether the database is there

    /// `failure`, or the database's absence when that is its cause: for what fails on a connection
    /// of its own (the leader's, the listener's).
    func cause(of failure: StoreError) async -> StoreError {
        await away() ?? failure
    }

    /// Fails at once while the database is known to be away; looks again when that is no longer recent.
    func admit() async throws(StoreError) {
        guard state.withLock({ $0.away != nil }) else { return }
        if let away = await away() { throw away }
    }

    /// Why the database is away if that was found within `recheck`, else a look's answer: after a
    /// failure, that it was there a moment ago says nothing.
    private func away() async -> StoreError? {
        let (known, away) = state.withLock { ($0.known, $0.away?.error) }
        if let away, let known, ContinuousClock.now - known < Self.recheck { return away }
        return await look()
    }

    /// Whether the database is there now, from a lone connection: nil, or why not. Whoever asks
    /// meanwhile waits for the same look. When the database is back, the pool is made anew; when
    /// it went silent, too, and its connections end at once: what waits on them for an answer
    /// would wait until the system gives the connection up, a quarter of an hour.
    private func look() async -> StoreError? {
        let look = state.withLock { current in
            if let looking = current.looking { return looking }
            let look = Task { [self] in
                let found = await probe()
                switch settle(found?.away, looked: true) {
                case .back?: renew(state.withLock { $0.pool })
                case .went? where found?.silent == true: renew(state.withLock { $0.pool }, now: true)
                default: break
                }
                return found?.away
            }
            current.looking = look
            return look
        }
        return await look.value
    }

    /// A connection made and closed, within the connect timeout: it tells the database's own reason
    /// for refusing (shutting down, a login refused) or the system's (connection refused, no route),
    /// where the pool only says that it could not connect.
    private func probe() async -> (away: StoreError, silent: Bool)? {
        do {
            let configuration = try location.connectionConfiguration(password: password, application: application)
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            let silent = if case .connectTimeout = (error as? PSQLError)?.underlying as? ChannelError { true } else { false }
            return (.databaseAway(location.description, reason: PostgresStore.reason(error)), silent)
        }
    }

    private enum Change { case went(StoreError), still(StoreError, since: Duration), back(after: Duration) }

    /// Records what was found (nil: the database answered), and says in the log what changed.
    @discardableResult
    private func settle(_ away: StoreError?, looked: Bool = false) -> Change? {
        let now = ContinuousClock.now
        let change: Change? = state.withLock { state in
            state.known = now
            if looked { state.looking = nil }
            switch (state.away, away) {
            case (nil, nil): return nil
            case (nil, let error?):
                state.away = (now, error, now)
                return .went(error)
            case (let was?, let error?):
                let remind = now - was.said >= Self.reminder
                state.away = (was.since, error, remind ? now : was.said)
                return remind ? .still(error, since: now - was.since) : nil
            case (let was?, nil):
                state.away = nil
                return .back(after: now - was.since)
            }
        }
        switch change {
        case .went(let error):
            logger.error("\(error). Meanwhile requests that need the store answer 503, and /healthz says unavailable")
        case .still(let error, let since):
            logger.warning("still away after \(Self.text(since)): \(error)")
        case .back(let after):
            logger.notice("PostgreSQL at \(location) answers again, after \(Self.text(after)) away")
        case nil: break
        }
        return change
    }

    /// `12 s`, `7 min`.
    private static func text(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds < 120 ? "\(seconds) s" : "\(seconds / 60) min"
    }
}

extension PostgresPool {
    /// One pool and its background work, with how many of its connections are leased: a pool
    /// replaced ends once they are all back, since ending it closes its connections, leased or not.
    private final class Generation: Sendable {
        private let client: PostgresClient
        private let running: Task<Void, Never>
        private let leases = Mutex((count: 0, retired: false))

        /// Started in place: the pool counts as running from here, before the first lease, which
        /// postgres-nio otherwise warns about on standard error (every CLI command did).
        ///
        /// Detached, without the task-local values of whoever made it: `PostgresClient` is a
        /// service that ends at its group's graceful shutdown, and a pool made anew inside
        /// `serve`'s group (after an outage) ended at SIGTERM, before the stop could record the
        /// calls in flight, give the leases up and sign the checkpoint (`poolShutdown`). The
        /// store's life is the server's to end (`close()`).
        init(_ configuration: PostgresClient.Configuration, logger: Logger) {
            let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
            self.client = client
            running = Task.immediateDetached { await client.run() }
        }

        /// Runs `body` on a connection, waiting at most the connect timeout for one
        /// (`NoConnection`); calls `slow` if `body` takes longer than that. The lease is taken by a
        /// task of its own, which holds the connection until `body` is done, so that the wait can
        /// end without it: cancelled, the pool drops the request.
        func lease<T>(_ body: (PostgresConnection) async throws -> T, slow: @escaping @Sendable () -> Void) async throws
            -> T
        {
            let eventLoop = PostgresClient.defaultEventLoopGroup.any()
            let connection = eventLoop.makePromise(of: PostgresConnection.self)
            let done = eventLoop.makePromise(of: Void.self)
            let waited = eventLoop.scheduleTask(in: Self.connectTimeout) { connection.fail(NoConnection()) }
            defer { waited.cancel() }
            return try await withThrowingDiscardingTaskGroup(returning: T.self) { group in
                group.addTask { [self] in
                    do {
                        try await client.withConnection { leased in
                            leases.withLock { $0.count += 1 }
                            defer { returned() }
                            // Ignored when the wait ended first: the connection goes back at once.
                            connection.succeed(leased)
                            try? await done.futureResult.get()
                        }
                    } catch {
                        connection.fail(NoConnection(cause: error))
                    }
                }
                defer { done.succeed(()) }
                let leased = try await connection.futureResult.get()
                let unanswered = eventLoop.scheduleTask(in: Self.connectTimeout, slow)
                defer { unanswered.cancel() }
                return try await body(leased)
            }
        }

        private static let connectTimeout = TimeAmount(PostgresLocation.connectTimeout)

        /// Ends this pool once its leased connections are back.
        func retire() {
            if leases.withLock({ $0.retired = true; return $0.count == 0 }) { running.cancel() }
        }

        /// Ends this pool now, closing its connections, leased or not.
        func end() async {
            running.cancel()
            await running.value
        }

        private func returned() {
            if leases.withLock({ $0.count -= 1; return $0.retired && $0.count == 0 }) { running.cancel() }
        }
    }
}
