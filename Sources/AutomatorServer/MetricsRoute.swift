import AutomatorRuntime
import Foundation
import Hummingbird
import Logging

/// `GET /metrics`: what waits and what is failing, in Prometheus's text format, behind the API
/// token (Prometheus sends it with `authorization: {credentials_file: ...}`). The store's counts
/// are read at each scrape (`Workload`); while the database is away they are left out and
/// `automator_store_up` is 0, so that an alert on it fires rather than the other alerts falling
/// silent. A store error that is not an outage (a damaged table, a full disk) sets it to 0 too,
/// and is logged once until the store answers again: the pool logs an outage itself.
struct MetricsRoute: Sendable {
    let store: any WorkloadStore
    /// Where the feeds in use are.
    let reputation: ReputationService
    let integrations: Integrations
    let fetches: Fetches
    /// Where the playbooks in use, and the files that do not load, are.
    let incidents: IncidentService
    let chat: ChatService
    let runs: RunService
    let logger: Logger
    let startedAt = Date()
    /// The store errors logged since the store last answered a scrape.
    private let logged = Locked<Set<String>>([])

    func add(to router: Router<APIRequestContext>, authentication: BearerAuthentication) {
        router.group("metrics").add(middleware: authentication).get(use: metrics)
    }

    @Sendable func metrics(_ request: Request, context: APIRequestContext) async -> Response {
        var text = PrometheusText()
        let workload: Workload?
        do throws(StoreError) {
            // An outage, which the pool logs once, throws here; only other errors are logged below.
            try await (store as? any LeasingStore)?.checkAvailability()
            workload = await readWorkload()
        } catch {
            workload = nil
        }
        text.gauge("automator_store_up", "1 when the store answered this scrape; 0 while it is away, "
                   + "and then the store's metrics are left out.", workload == nil ? 0 : 1)
        if let writes = store as? any WriteRefusingStore {
            text.gauge("automator_store_writable", "0 while the store refuses writes (a full disk): nothing new is "
                       + "kept, reads and this scrape go on.", writes.writeProblem == nil ? 1 : 0)
        }
        text.gauge("automator_start_time_seconds", "When this server started, in seconds since 1970.",
                   startedAt.timeIntervalSince1970.rounded(.down))
        text.gauge("automator_runs_in_memory", "Runs this server holds now: running, or waiting on it.",
                   Double(runs.liveCount))
        let (playbooks, problems) = await incidents.playbooks()
        if let workload { Self.add(workload, declaredTypes: Self.declaredTypes(of: playbooks), to: &text) }
        feedMetrics(to: &text)
        playbookMetrics(playbooks, problems, to: &text)
        integrationMetrics(to: &text)
        chatMetrics(to: &text)
        return Response(status: .ok, headers: [.contentType: PrometheusText.contentType],
                        body: ResponseBody(byteBuffer: ByteBuffer(string: text.text)))
    }

    /// The store's counts; nil when it fails, each error logged once until it answers again.
    private func readWorkload() async -> Workload? {
        do {
            let workload = try await store.workload(at: Date())
            logged.withLock { $0 = [] }
            return workload
        } catch {
            if logged.withLock({ $0.insert(error.description).inserted }) {
                logger.error("""
                    /metrics: the store's counts cannot be read, so automator_store_up is 0 until they can: \(error)
                    """)
            }
            return nil
        }
    }

    /// The types the playbooks' `match` tables name: kept as labels whatever their count (`BoundedLabel`).
    private static func declaredTypes(of playbooks: [Playbook]) -> Set<String> {
        Set(playbooks.flatMap { playbook -> [String] in
            guard case .fields(let fields) = playbook.match else { return [] }
            return fields["type"] ?? []
        })
    }

    private static func add(_ workload: Workload, declaredTypes: Set<String>, to text: inout PrometheusText) {
        let open = Incident.Status.allCases.filter { $0 != .closed }
        text.gauge("automator_incidents_open", "Open incidents by status and severity.", open.flatMap { status in
            Incident.Severity.allCases.map { severity in
                ([("status", status.rawValue), ("severity", severity.rawValue)],
                 Double(workload.openIncidents[.init(status: status, severity: severity)] ?? 0))
            }
        })
        text.gauge("automator_incidents_closed", "Closed incidents in the store.", Double(workload.closedIncidents))
        // Types and owners are free text: bounded (`BoundedLabel`), the rest summed as `other`.
        var perType: [String: Int] = [:]
        for (group, count) in workload.sla { perType[group.type, default: 0] += count }
        let types = BoundedLabel(counts: perType, declared: declaredTypes)
        var sla: [Workload.SLAGroup: Int] = [:]
        for (group, count) in workload.sla { sla[.init(type: types.label(group.type), state: group.state), default: 0] += count }
        text.gauge("automator_incidents_sla", "Open incidents with an SLA, by type and state: on_track, at_risk "
                   + "(three quarters of the time gone) or breached. The types the playbooks match and the "
                   + "\(BoundedLabel.limit) most numerous others; the rest are type=\"other\".",
                   types.folded(perType).flatMap { type, _ in
            [SLAState.onTrack, .atRisk, .breached].map { state in
                ([("type", type), ("state", state.rawValue)], Double(sla[.init(type: type, state: state)] ?? 0))
            }
        })
        let owners = BoundedLabel(counts: workload.openTasks)
        let tasks = owners.folded(workload.openTasks)
        let overdue = Dictionary(uniqueKeysWithValues: owners.folded(workload.overdueTasks))
        text.gauge("automator_tasks_open", #"Open tasks by owner ("" for none): the \#(BoundedLabel.limit) owners "#
                   + #"with most, the rest as owner="other"."#, tasks.map { ([("owner", $0.label)], Double($0.count)) })
        text.gauge("automator_tasks_overdue", "Open tasks past their deadline, by owner, as automator_tasks_open.",
                   tasks.map { ([("owner", $0.label)], Double(overdue[$0.label] ?? 0)) })
        text.gauge("automator_runs", "Runs in the store by status: pending, running, waiting (on a person or a "
                   + "timer), and failed (kept until the runs' retention removes them).", Workload.countedRuns.map {
            ([("status", $0.rawValue)], Double(workload.runs[$0] ?? 0))
        })
        text.gauge("automator_questions_open", "Questions and approvals asked in chat that nobody answered yet.",
                   Double(workload.openQuestions))
    }

    /// Each feed's last load: a feed whose file broke keeps its previous entries, so only these say so.
    private func feedMetrics(to text: inout PrometheusText) {
        let statuses = reputation.feedStatuses
        text.gauge("automator_feed_entries", "Entries each feed's last successful load read.", statuses.map {
            ([("feed", $0.feed.name)], Double($0.entryCount))
        })
        text.gauge("automator_feed_loaded_timestamp_seconds", "When each feed last loaded, in seconds since 1970; "
                   + "0 if it never did.", statuses.map {
            ([("feed", $0.feed.name)], ($0.loadedAt?.timeIntervalSince1970 ?? 0).rounded(.down))
        })
        text.gauge("automator_feed_failing", "1 when the last attempt to read the feed failed.", statuses.map {
            ([("feed", $0.feed.name)], $0.failure == nil ? 0 : 1)
        })
    }

    /// Each chat network whose adapter tells its connection (Matrix).
    private func chatMetrics(to text: inout PrometheusText) {
        let connections = chat.connections
        text.gauge("automator_chat_connected", "1 while the bot is connected to the chat network.", connections.map {
            ([("network", $0.network)], $0.connected ? 1 : 0)
        })
        text.gauge("automator_chat_last_event_timestamp_seconds", "When the chat network last delivered an event to "
                   + "this worker, in seconds since 1970; 0 if it has not.", connections.map {
            ([("network", $0.network)], ($0.lastEvent?.timeIntervalSince1970 ?? 0).rounded(.down))
        })
    }

    /// Each playbook file, in use or failing: an edited file that does not load keeps its previous
    /// version in use (a new one is not used), which only the log said.
    private func playbookMetrics(_ playbooks: [Playbook], _ problems: [PlaybookProblem], to text: inout PrometheusText) {
        var failing = Dictionary(playbooks.map { ($0.path, false) }, uniquingKeysWith: { $1 })
        for problem in problems { failing[problem.path] = true }
        text.gauge("automator_playbook_failing", "1 when the playbook's file does not load as it is now (the log "
                   + "and automator check say why; an edited one keeps its previous version in use).",
                   failing.keys.sorted().map { ([("file", $0)], failing[$0]! ? 1 : 0) })
    }

    /// Each integration in use or failing: an edited file that does not load keeps its previous
    /// version in use, and a paused one answers every lookup `unknown`, so only these say so.
    private func integrationMetrics(to text: inout PrometheusText) {
        let statuses = integrations.statuses
        text.gauge("automator_integration_loaded_timestamp_seconds", "When the version of each integration in use "
                   + "was loaded, in seconds since 1970; 0 if none is.", statuses.map {
            ([("integration", $0.key)], ($0.loadedAt?.timeIntervalSince1970 ?? 0).rounded(.down))
        })
        text.gauge("automator_integration_failing", "1 when the integration's file does not load as it is now "
                   + "(the log and automator check say why).", statuses.map {
            ([("integration", $0.key)], $0.failure == nil ? 0 : 1)
        })
        text.gauge("automator_integration_lookups_failing", "1 from a lookup of the integration that failed (a "
                   + "revoked key's 401 too, which pauses nothing; the log says why) until one succeeds.",
                   statuses.map { ([("integration", $0.key)], $0.lookupFailures == nil ? 0 : 1) })
        text.gauge("automator_integration_paused", "1 while the integration's lookups answer unknown without asking "
                   + "its service, after it failed (a timeout, no connection, 429, 5xx): until its pause ends, and "
                   + "while one lookup asks it again then.",
                   statuses.map { ([("integration", $0.key)], $0.isPaused ? 1 : 0) })
        text.gauge("automator_integration_paused_until_timestamp_seconds", "When the integration's current pause "
                   + "ends and a lookup asks its service again, in seconds since 1970; 0 if it is not paused.",
                   statuses.map { ([("integration", $0.key)], ($0.pause?.until.timeIntervalSince1970 ?? 0).rounded(.up)) })
        // On the worker that fetches (the leader on a shared store); the others have none.
        let fetching = fetches.statuses
        text.gauge("automator_integration_fetch_failing", "1 from a run of the integration's fetch that failed (the "
                   + "log and automator fetch list say why) until one succeeds; its cursor stays where it was meanwhile.",
                   fetching.map { ([("integration", $0.name)], $0.failures == nil ? 0 : 1) })
        text.gauge("automator_integration_fetch_success_timestamp_seconds", "When the integration's fetch last stored "
                   + "a page, in seconds since 1970; 0 if it has not since this server started.", fetching.map {
            ([("integration", $0.name)], ($0.lastSuccess?.timeIntervalSince1970 ?? 0).rounded(.down))
        })
    }
}
