public import Foundation
public import Logging
import Synchronization

/// Runs the fetches the integrations declare (`fetch = { every = "1m", run = ... }`): each on its
/// interval, its alerts ingested exactly as `POST /api/v1/ingest/SOURCE` ingests one (the source's
/// mapper, deduplication by source and reference, an alert its mapper cannot read kept as
/// `unmapped`, the playbook started), its cursor kept in the store only after the page's alerts are.
///
/// A crash between the alerts and the cursor fetches the page again at the next start; its alerts
/// then link to the incidents they opened instead of opening new ones. A fetch never runs twice at
/// once: a slow one delays its next, it does not stack. One that fails keeps its cursor, is logged
/// once per cause (as lookups are, `LookupFailures`), and waits twice as long after each failure,
/// from its interval up to `longestPause` (or its interval if longer), until one succeeds.
///
/// `serve` runs it where one worker acts for all: on SQLite the server, on a shared PostgreSQL
/// store the leader (two workers fetching would both ingest every page).
public final class Fetches: Sendable {
    /// A fetch as `/healthz` and `/metrics` show it.
    public struct Status: Sendable {
        public var name: String
        public var source: String
        /// When its last run succeeded here; nil before one did since the start.
        public var lastSuccess: Date?
        /// Its runs failing since the last that succeeded; nil while they succeed.
        public var failures: LookupFailureState?
    }

    /// What one page did.
    public struct Page: Sendable, Hashable {
        public var alerts = 0
        /// Alerts that opened an incident, and those linked to one already here: an open one (an
        /// update, a page fetched again), or a closed one for an alert its tool closed too.
        public var opened = 0
        public var linked = 0
        public var cursor: String?
        /// The service said it has more: the next page is fetched at once.
        public var more = false
    }

    private struct Schedule {
        var due: Date
        var running = false
        var backoff: Backoff?
        var lastSuccess: Date?
        let failures: LookupFailures
    }

    /// The longest wait after failures, unless the fetch's interval is longer: a service back
    /// from an outage is asked again within a quarter of an hour.
    static let longestPause: Duration = .seconds(900)
    /// Pages fetched one after the other while the service has more, before the fetch waits for its
    /// interval: a backlog of days is taken in steps, not in one run that never ends.
    static let pagesPerRound = 50

    private let integrations: Integrations
    private let incidents: IncidentService
    private let store: any FetchStore
    private let logger: Logger
    private let schedules = Mutex<[String: Schedule]>([:])
    /// `run` is scheduling the fetches here: this worker leads (on SQLite, the one server).
    private let scheduling = Mutex(0)

    public init(integrations: Integrations, incidents: IncidentService, store: any FetchStore, logger: Logger) {
        self.integrations = integrations
        self.incidents = incidents
        self.store = store
        self.logger = logger
    }

    /// Each fetch declared now, with how its runs went here.
    public var statuses: [Status] {
        let declared = integrations.fetches
        return schedules.withLock { schedules in
            declared.map { fetch in
                Status(name: fetch.name, source: fetch.source, lastSuccess: schedules[fetch.name]?.lastSuccess,
                       failures: schedules[fetch.name]?.failures.current)
            }
        }
    }

    /// Runs each fetch when it is due, looking every `tick`, until cancelled. The first run of each
    /// is at once: after a restart the cursor says where it stopped.
    public func run(every tick: Duration = .seconds(1)) async {
        scheduling.withLock { $0 += 1 }
        defer { scheduling.withLock { $0 -= 1 } }
        await withDiscardingTaskGroup { group in
            repeat {
                for fetch in taking(due: Date()) { group.addTask { await self.round(fetch) } }
            } while (try? await Task.sleep(for: tick)) != nil
            group.cancelAll()
        }
    }

    /// Runs the fetch named `name` once, now, whatever its interval (`automator fetch run`), on the
    /// worker that schedules the fetches alone: on another, beside the leader's own run, both would
    /// ingest the page (no incident twice, but each alert counted twice on its incident).
    ///
    /// - Throws: `FetchError` when no integration in use declares it, this worker does not lead, it
    ///   is running now, or it failed.
    public func runNow(_ name: String) async throws(FetchError) -> Page {
        guard scheduling.withLock({ $0 > 0 }) else {
            throw FetchError(.notLeading, "this worker does not fetch: on a store shared by workers the leader alone "
                + "does (its log says it leads the workers); run this on the leader's folder, or let its next run "
                + "come (automator fetch list says when the last one did). --dry-run works on any worker")
        }
        let fetch = try take(name)
        let result = await page(fetch)
        finished(fetch, result)
        return try result.get()
    }

    /// What a dry run of a fetch found (`automator fetch run NAME --dry-run`).
    public struct DryRun: Sendable {
        /// Each alert of the page as `IncidentService.ingest` would take it.
        public var alerts: [IncidentService.Preview] = []
        /// The cursor kept, which the run started from and which stays.
        public var cursor: String?
        /// Where a run would have moved it.
        public var nextCursor: String?
        public var more = false
    }

    /// Fetches one page of the fetch named `name` from its kept cursor and says what each alert
    /// would become (`IncidentService.preview`), storing no incident and keeping the cursor, its
    /// schedule and its failures as they were: how an operator checks a new fetch before it opens
    /// cases. It is not run beside a run of the same fetch.
    ///
    /// - Throws: `FetchError` when no integration in use declares it, it is running now, or it failed.
    public func dryRun(_ name: String) async throws(FetchError) -> DryRun {
        let fetch = try take(name)
        defer { schedules.withLock { $0[name]?.running = false } }
        let cursor: String?
        do { cursor = try await store.fetchState(name)?.cursor } catch {
            throw FetchError("its cursor could not be read: \(error)")
        }
        let fetched = try await integrations.fetch(name, cursor: cursor).get()
        var dryRun = DryRun(cursor: cursor, nextCursor: fetched.cursor ?? cursor, more: fetched.more)
        for (index, alert) in fetched.alerts.enumerated() {
            do { dryRun.alerts.append(try await incidents.preview(source: fetch.source, alert: alert)) } catch {
                throw FetchError("alert \(index + 1) of \(fetched.alerts.count) could not be read: \(error.description)")
            }
        }
        return dryRun
    }

    /// The fetch named `name`, marked running.
    private func take(_ name: String) throws(FetchError) -> FetchDeclaration {
        guard let fetch = integrations.fetches.first(where: { $0.name == name }) else {
            let names = integrations.fetches.map(\.name)
            throw FetchError(.notDeclared, "no integration in use declares a fetch named \(name): "
                + (names.isEmpty ? "none does" : "the fetches are " + names.joined(separator: ", ")))
        }
        let taken = schedules.withLock { schedules in
            var schedule = schedules[name] ?? Self.schedule(for: fetch, logger: logger)
            guard !schedule.running else { return false }
            schedule.running = true
            schedules[name] = schedule
            return true
        }
        guard taken else {
            throw FetchError(.running, "the fetch \(name) is running now: automator fetch list shows how it went")
        }
        return fetch
    }

    /// The fetches due at `now`, marked running; forgets those no longer declared.
    private func taking(due now: Date) -> [FetchDeclaration] {
        let declared = integrations.fetches
        return schedules.withLock { schedules in
            let names = Set(declared.map(\.name))
            schedules = schedules.filter { names.contains($0.key) || $0.value.running }
            var due: [FetchDeclaration] = []
            for fetch in declared {
                var schedule = schedules[fetch.name] ?? Self.schedule(for: fetch, logger: logger)
                if !schedule.running, schedule.due <= now {
                    schedule.running = true
                    due.append(fetch)
                }
                schedules[fetch.name] = schedule
            }
            return due
        }
    }

    private static func schedule(for fetch: FetchDeclaration, logger: Logger) -> Schedule {
        Schedule(due: Date(), failures: LookupFailures(name: fetch.name, of: .fetch, logger: logger))
    }

    /// Pages, one after the other while the service has more, then the wait for the next round.
    private func round(_ fetch: FetchDeclaration) async {
        var pages = 0
        var result: Result<Page, FetchError>
        repeat {
            result = await page(fetch)
            pages += 1
        } while (try? result.get())?.more == true && pages < Self.pagesPerRound && !Task.isCancelled
        finished(fetch, result)
    }

    /// Marks the fetch no longer running, due after its interval, or after its backoff when it failed.
    private func finished(_ fetch: FetchDeclaration, _ result: Result<Page, FetchError>) {
        let now = Date()
        schedules.withLock { schedules in
            guard var schedule = schedules[fetch.name] else { return }
            schedule.running = false
            switch result {
            case .success:
                schedule.backoff = nil
                schedule.lastSuccess = now
                schedule.due = now + fetch.every.timeInterval
            case .failure:
                var backoff = schedule.backoff ?? Backoff(first: fetch.every, longest: max(fetch.every, Self.longestPause))
                schedule.due = now + backoff.next().timeInterval
                schedule.backoff = backoff
            }
            schedules[fetch.name] = schedule
        }
    }

    /// One run of `fetch.run` from the kept cursor: its alerts ingested one by one, then its cursor
    /// kept. A failure anywhere keeps the cursor where it was, and is logged once for its cause.
    private func page(_ fetch: FetchDeclaration) async -> Result<Page, FetchError> {
        var state: FetchState
        do { state = try await store.fetchState(fetch.name) ?? FetchState(name: fetch.name) } catch {
            return await failed(fetch, nil, "its cursor could not be read: \(error)")
        }
        let fetched: FetchPage
        switch await integrations.fetch(fetch.name, cursor: state.cursor) {
        case .success(let page): fetched = page
        case .failure(let error): return await failed(fetch, state, error.message)
        }
        var page = Page(alerts: fetched.alerts.count, cursor: fetched.cursor ?? state.cursor, more: fetched.more)
        for (index, alert) in fetched.alerts.enumerated() {
            do {
                let ingested = try await incidents.ingest(source: fetch.source, alert: alert, by: "fetch:" + fetch.name)
                if ingested.deduplicated { page.linked += 1 } else { page.opened += 1 }
            } catch {
                let problem = "alert \(index + 1) of \(fetched.alerts.count) was not stored (\(error.description)); the page "
                    + "is fetched again, and the alerts stored already link to their incidents"
                return await failed(fetch, state, problem)
            }
        }
        state.succeeded(cursor: fetched.cursor, at: Date())
        do { try await store.keepFetchState(state) } catch {
            return await failed(fetch, nil, "its cursor could not be kept (\(error)); the page is fetched again, and its "
                + "alerts link to their incidents")
        }
        schedules.withLock { $0[fetch.name]?.failures }?.succeeded()
        return .success(page)
    }

    /// Logs the failure once for its cause, and keeps it with `state` (its cursor unchanged) when
    /// the store was read.
    private func failed(_ fetch: FetchDeclaration, _ state: FetchState?, _ message: String) async -> Result<Page, FetchError> {
        schedules.withLock { $0[fetch.name]?.failures }?.failed(message, value: "")
        if var state {
            state.failed(message, at: Date())
            // Only what `fetch list` shows: the cursor, which matters, is the same whether this is kept or not.
            try? await store.keepFetchState(state)
        }
        return .failure(FetchError(message))
    }
}

extension Duration {
    /// In seconds, for a `Date`.
    fileprivate var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
