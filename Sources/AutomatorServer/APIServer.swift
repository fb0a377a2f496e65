public import AutomatorRuntime
public import Foundation
import Hummingbird
import HummingbirdCore
public import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `automator serve`: durable runs behind an HTTP API, until SIGTERM or SIGINT.
///
/// Starting, in order: open the store (it makes the data folder), lock the folder against a
/// second server, find or make the API token, check that the address can be listened on, resume
/// the runs a previous life left unfinished, then listen, logging `listening on http://HOST:PORT`
/// and writing that address into the lock file for `automator runs`. Stopping, on a signal: stop
/// taking connections and let the requests in flight answer, then stop the executors (runs in
/// flight stay unfinished in the store, after their host calls in flight are recorded; the next
/// start resumes them), close the store, release the lock.
///
/// ```swift
/// let server = APIServer(configuration: .init(dataFolder: "automator-data", scriptsFolder: "scripts"),
///                        modules: { StandardModules.all(logger: logger, reputation: $0) }, logger: logger)
/// try await server.run()
/// ```
public struct APIServer {
    public struct Configuration: Sendable {
        /// The API token, the lock, the journal's signing key, and the SQLite store unless `store`.
        public var dataFolder: String
        /// The PostgreSQL store that this server shares with other workers; nil for SQLite in the
        /// data folder.
        public var store: PostgresLocation?
        /// On PostgreSQL, how long this worker's runs stay its own without a renewal: after it
        /// dies, other workers resume them within this time and a second.
        public var lease: Duration
        public var host: String
        /// 0 for a port the system picks.
        public var port: Int
        public var scriptsFolder: String
        /// How many executors; nil for one per core.
        public var executors: Int?
        public var limits: Limits
        /// Seconds an open incident takes the alerts with its source and reference (0: never).
        public var dedupWindow: TimeInterval
        /// The configuration file's sections: feeds, integrations' settings, cache times, the
        /// chat networks the bot joins and the roles, which actions wait for an approval and what
        /// they may never touch.
        public var file: ConfigurationFile
        /// Where `file` was read (`--config`), to read it again on SIGHUP; nil when it was not.
        public var filePath: String?

        public init(dataFolder: String, store: PostgresLocation? = nil, lease: Duration = .seconds(10),
                    host: String = "127.0.0.1", port: Int = 8080, scriptsFolder: String,
                    executors: Int? = nil, limits: Limits = Limits(), dedupWindow: TimeInterval = 86400,
                    file: ConfigurationFile = ConfigurationFile(), filePath: String? = nil)
        {
            self.dataFolder = dataFolder
            self.store = store
            self.lease = lease
            self.host = host
            self.port = port
            self.scriptsFolder = scriptsFolder
            self.executors = executors
            self.limits = limits
            self.dedupWindow = dedupWindow
            self.file = file
            self.filePath = filePath
        }
    }

    private let configuration: Configuration
    /// The modules of the runs, given where `intel.reputation` asks.
    private let modules: @Sendable (ReputationService) -> [any HostModule]
    private let logger: Logger

    public init(configuration: Configuration, modules: @escaping @Sendable (ReputationService) -> [any HostModule],
                logger: Logger)
    {
        self.configuration = configuration
        self.modules = modules
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully and returns.
    ///
    /// - Throws: `StoreError` (the data folder or its database), `ServeError` (the folder is in
    ///   use, the token file, the address), `LuaError` (the executors' states).
    public func run() async throws {
        let folder = configuration.dataFolder
        let sections = configuration.file
        let reload = ConfigurationReload(file: configuration.filePath, running: sections, logger: logger)
        defer { withExtendedLifetime(reload) {} }
        // The store first: it makes the data folder, and says clearly what is wrong with one.
        let (store, storeName) = try await openStore()
        let lock = try DataFolderLock(folder: folder)
        let token = try loadToken()
        try await Self.checkListening(host: configuration.host, port: configuration.port)
        let ledger = IncidentLedger(store: store)
        let integrations = await Integrations(folder: configuration.scriptsFolder + "/integrations",
                                              settings: sections.intel.integrations, quotas: store, logger: logger)
        // Listening does not wait for the feeds: a feed of a million lines takes seconds to load. A
        // lookup meanwhile waits for it, less than the CLI's 30 s for an answer, then says the feed
        // is still loading.
        let feeds = FeedSet(sections.intel.feeds, logger: logger, firstLoad: .inBackground(wait: .seconds(20)))
        let reputation = ReputationService(feeds: feeds, integrations: integrations, cache: store,
                                           ttl: sections.intel.cacheTTL)
        let slack = sections.chat.slack.map { SlackAdapter(configuration: $0, conversations: store, logger: self.logger) }
        // On a shared store each worker is a device of its own, named by its machine and data folder.
        let device = configuration.store.map { _ in
            ProcessInfo.processInfo.hostName + ":" + URL(fileURLWithPath: folder).standardizedFileURL.path
        }
        let matrix = sections.chat.matrix.map {
            MatrixAdapter(configuration: $0, state: store, deviceOwner: device, logger: self.logger)
        }
        // The console answers `automator repl --incident` through the API (`WarRoomRoutes`).
        let warRoomPosts = WarRoomPosts()
        let console = ConsoleAdapter(user: "api", lines: AsyncStream { _ in }, write: warRoomPosts.write,
                                     isDefaultNetwork: false, readsLocalFiles: false)
        let adapters: [any ChatAdapter] = [slack as (any ChatAdapter)?, matrix, console].compactMap { $0 }
        // Who may do what, for the chat and the actions alike: SIGHUP replaces both parts at once.
        let rules = AccessRules(roles: sections.chat.roles, actions: sections.actions)
        let chat = ChatService(store: store, adapters: adapters, scripts: configuration.scriptsFolder, rules: rules,
                               logger: logger)
        if let waiting = sections.chat.approvalsWaitForAnOperator { logger.warning("chat: \(waiting)") }
        let evidence = EvidenceService(store: store, dataFolder: folder)
        let actions = ActionService(integrations: integrations, store: store, rules: rules, logger: logger)
        let reports = ReportPoster(schedule: sections.chat.report, store: store, chat: chat, logger: logger)
        let taskNotices = TaskNotices(settings: sections.chat.tasks, tasks: store, chat: chat, logger: logger)
        reload.start(applyingTo: .init(rules: rules, reputation: reputation, integrations: integrations, reports: reports,
                                       taskNotices: taskNotices))
        let modules = modules(reputation) + FolderModules.make(ledger: ledger, evidence: evidence, chat: chat,
                                                               reputation: reputation, actions: actions)
        let runs = try RunService(store: store, modules: modules, modulePaths: [configuration.scriptsFolder],
                                  executors: configuration.executors, limits: configuration.limits, logger: logger)
        let service = try IncidentService(ledger: ledger, runs: runs, scripts: configuration.scriptsFolder,
                                          modules: modules, dedupWindow: configuration.dedupWindow, logger: logger)
        let fetches = Fetches(integrations: integrations, incidents: service, store: store, logger: logger)
        do {
            try await service.start()
            await logScripts(service)
            logChat(slack: slack != nil, matrix: matrix != nil)
            logger.info("resumed \(runs.liveCount.counted("unfinished run")) from \(storeName)")
            try await chat.start(runs: runs, modules: modules)
        } catch {
            await chat.shutdown()
            await service.shutdown()
            throw error
        }

        // Hummingbird's and the service group's own messages only when they matter.
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)
        let host = configuration.host
        let logger = logger
        let application = Application(
            router: router(service: service, evidence: evidence, reputation: reputation, store: store, token: token, chat: chat,
                           slack: slack, warRoom: WarRoomRoutes(chat: chat, console: console, posts: warRoomPosts),
                           health: HealthRoute(store: store as? any LeasingStore, writes: store as? any WriteRefusingStore,
                                               chat: chat, integrations: integrations, fetches: fetches,
                                               incidents: service),
                           metrics: MetricsRoute(store: store, reputation: reputation, integrations: integrations,
                                                fetches: fetches, incidents: service, chat: chat,
                                                runs: runs, logger: logger),
                           roles: PersonalRoles(chat: chat, journal: store, logger: logger),
                           actions: actions, fetches: fetches, integrations: integrations),
            server: .http1(configuration: HTTP1Channel.Configuration(
                additionalChannelHandlers: [IdleConnectionHandler()] + (slack.map {
                    [SlackEventsHandler(adapter: $0, inbox: chat, serverName: AutomatorVersion.serverHeader)]
                } ?? []))),
            configuration: ApplicationConfiguration(address: .hostname(host, port: configuration.port),
                                                    serverName: AutomatorVersion.serverHeader),
            services: [ServiceRunner(service: service, chat: chat, integrations: integrations, fetches: fetches,
                                     actions: actions,
                                     checkpointer: JournalCheckpointer(store: store, folder: folder, logger: logger),
                                     reports: reports, taskNotices: taskNotices,
                                     leases: RunLeaseKeeper(runs: runs, logger: logger),
                                     changes: SharedChangeFollower(runs: runs, ledger: ledger, chat: chat,
                                                                   logger: logger),
                                     writes: (store as? any WriteRefusingStore).map {
                                         StoreWriteWatch(store: $0, logger: logger)
                                     },
                                     logger: logger)],
            onServerRunning: { channel in
                let url = Self.url(host: host, port: channel.localAddress?.port ?? 0)
                logger.info("listening on \(url)")
                if let problem = lock.publish(url: url) {
                    logger.warning("""
                        could not write this address into \(lock.path) (\(problem)): automator commands on \(folder) \
                        cannot find this server; free some space on its disk and restart it
                        """)
                }
            },
            logger: quiet
        )
        let group = ServiceGroup(services: [application], gracefulShutdownSignals: [.sigterm, .sigint], logger: quiet)
        do {
            try await group.run()
        } catch {
            // Only the HTTP server fails in the group: it could not bind, or not resolve the host.
            throw Self.cannotListen(host: host, port: configuration.port, error)
        }
        withExtendedLifetime(lock) {}
        logger.info("stopped")
    }

    /// What the server keeps, in one store: SQLite or PostgreSQL.
    private typealias ServedStore = WorkloadStore & IntelStore & ReportStore & EvidenceStore & ActionStore
        & PersonalTokenStore & FetchStore

    /// The store, and where it is for the log.
    private func openStore() async throws(StoreError) -> (any ServedStore, String) {
        let folder = configuration.dataFolder
        guard let location = configuration.store else {
            let store = try SQLiteStore(folder: folder)
            // A full disk is waited out; a database this user may not write is no server's.
            if let error = store.unwritable, error.kind == .readOnly { throw error }
            if let upgrade = store.upgrade { logUpgrade(upgrade, of: store.path) }
            return (store, store.path)
        }
        try DataFolder.prepare(folder)
        try UnfinishedCopy.refuse(folder)
        let store = try await PostgresStore(location: location, lease: RunLease(duration: configuration.lease),
                                            dataFolder: folder, logger: logger)
        if try !DataFolder.markWorker(folder, of: location.description), DataFolder.moved(folder) == nil {
            logger.warning("""
                \(folder) holds a store of its own (automator.sqlite), which this worker does not use: \
                automator store copy --data \(folder) --store \(location) moves its history into the database
                """)
        }
        if let upgrade = store.upgrade { logUpgrade(upgrade, of: location.description) }
        logger.info("worker \(store.worker) on \(location), leases of \(configuration.lease)")
        return (store, location.description)
    }

    /// Says that the schema was upgraded (`SchemaUpgrade.notice`).
    private func logUpgrade(_ upgrade: SchemaUpgrade, of store: String) {
        logger.notice("\(upgrade.notice(of: store))")
    }

    private func router(service: IncidentService, evidence: EvidenceService, reputation: ReputationService,
                        store: any IntelStore & ReportStore & PersonalTokenStore & FetchStore, token: String,
                        chat: ChatService, slack: SlackAdapter?,
                        warRoom: WarRoomRoutes, health: HealthRoute, metrics: MetricsRoute,
                        roles: PersonalRoles, actions: ActionService, fetches: Fetches,
                        integrations: Integrations) -> Router<APIRequestContext>
    {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: JSONErrors())
        health.add(to: router)
        let refusals = RefusedRequests(logger: logger)
        metrics.add(to: router, authentication: BearerAuthentication(token: token, personal: store, guarding: .metrics,
                                                                     refusals: refusals))
        // Slack signs its requests instead of sending the API token.
        if let slack { SlackRoutes(adapter: slack, inbox: chat).add(to: router) }
        let api = router.group("api/v1").add(middleware: BearerAuthentication(token: token, personal: store, guarding: .api,
                                                                                              refusals: refusals))
        RunRoutes(runs: service.runs, playbooks: { await service.loadedPlaybooks() },
                  scripts: ScriptFolder(path: configuration.scriptsFolder), roles: roles).add(to: api)
        IncidentRoutes(service: service).add(to: api)
        EvidenceRoutes(evidence: evidence).add(to: api)
        IntelRoutes(reputation: reputation, store: store).add(to: api)
        ReportRoutes(store: store).add(to: api)
        QuestionRoutes(chat: chat).add(to: api)
        warRoom.add(to: api)
        ActionRoutes(actions: actions, roles: roles).add(to: api)
        TokenRoutes(store: store).add(to: api)
        FetchRoutes(fetches: fetches, integrations: integrations, store: store, roles: roles).add(to: api)
        return router
    }

    /// What the scripts folder gave at the start, with this automator's version: which playbooks an
    /// incident may get, in one line (a missing folder was warned of already, by the command).
    private func logScripts(_ service: IncidentService) async {
        let folder = URL(fileURLWithPath: configuration.scriptsFolder).standardizedFileURL.path
        let (playbooks, problems) = await service.playbooks()
        let names = playbooks.isEmpty ? "" : " (" + playbooks.map(\.name).joined(separator: ", ") + ")"
        let broken = Set(problems.map(\.path)).count
        logger.info("""
            automator \(AutomatorVersion.current), scripts in \(folder): \(playbooks.count.counted("playbook"))\(names)\
            \(broken == 0 ? "" : "; \(broken.counted("file")) in playbooks/ not used, said above")
            """)
    }

    /// The chat networks the bot joins; with none, what that means, rather than silence.
    private func logChat(slack: Bool, matrix: Bool) {
        let networks = [slack ? "Slack" : nil, matrix ? "Matrix" : nil].compactMap(\.self)
        if networks.isEmpty {
            logger.info("""
                chat: no network set up (chat.slack or chat.matrix in --config): a playbook's chat.post fails \
                saying so, and its questions wait for automator question answer
                """)
        } else {
            logger.info("chat: \(networks.joined(separator: " and ")), connecting (the log says when each is up)")
        }
    }

    /// The token, saying where it comes from. The token itself is never logged: logs are shipped to
    /// a SIEM and read by more people than the token's file.
    private func loadToken() throws(ServeError) -> String {
        let (token, source) = try APIToken.forServer(folder: configuration.dataFolder,
                                                     environment: ProcessInfo.processInfo.environment)
        switch source {
        case .environment:
            logger.info("API token: from \(APIToken.environmentVariable)")
        case .file(let path, created: true):
            logger.notice("""
                API token made now and kept in \(path), mode 0600: clients send it as \
                Authorization: Bearer $(cat \(path)), and the commands on this folder read it there
                """)
        case .file(let path, created: false):
            logger.info("API token: in \(path)")
        }
        return token
    }

    /// The address clients use: a wildcard address is reached on loopback.
    static func url(host: String, port: Int) -> String {
        let reachable = switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "::1"
        default: host
        }
        return "http://" + address(host: reachable, port: port)
    }

    /// `host:port`, with an IPv6 host in brackets.
    static func address(host: String, port: Int) -> String {
        (host.contains(":") ? "[\(host)]" : host) + ":\(port)"
    }
}
