import AutomatorRuntime
import AutomatorServer
import Foundation
import Logging

/// The bot on a data folder, with the terminal as its chat network: what `automator chat` and
/// the REPL's `!` lines talk to. It works as `automator serve` would on the folder (incidents,
/// notes, tasks and actions are the server's; the roles and the actions' rules are the
/// configuration's), and so needs the folder to itself.
final class ChatConsole: Sendable {
    private let chat: ChatService
    private let console: ConsoleAdapter
    private let incidents: IncidentService
    private let integrations: Integrations
    private let lock: DataFolderLock?
    private let store: SQLiteStore
    private let options: ModuleOptions
    private let logger: Logger
    private let ledger: IncidentLedger
    private let reputation: ReputationService
    private let evidence: EvidenceService
    private let actions: ActionService

    /// - Parameters:
    ///   - lines: what the console reads until it ends (none for the REPL, which says each line
    ///     itself).
    ///   - write: shows what the bot posts (the REPL also journals it).
    init(data: String, scripts: String, config: String?, user: String, modules: ModuleOptions, logger: Logger,
         lines: AsyncStream<String>, write: @escaping @Sendable (String) -> Void = { printVisible($0) },
         afterEach: @escaping @Sendable () async -> Void = {}) async throws
    {
        // A first chat on a new machine (`automator chat`, the REPL's `!` lines) starts the default
        // folder; any other missing one is a typo (FolderAccess.requireFolder).
        if data == FolderAccess.defaultFolder { try DataFolder.prepare(data) } else { try FolderAccess.requireFolder(data) }
        guard case .direct(let lock) = try FolderAccess.open(data) else {
            // What works through the server, for a team with no chat network.
            throw CommandFailure("automator serve holds \(data): talk to its bot in Slack or Matrix, or in an incident's "
                + "war room here with automator repl --incident INC-42 (automator incident, task, action and intel "
                + "also work through the server); or stop serve to chat here")
        }
        self.lock = lock
        let intel = try config.map { try IntelConfiguration(file: $0) } ?? IntelConfiguration()
        // Shared by the chat and the actions, as on the server.
        let rules = AccessRules(roles: try config.map { try ChatConfiguration.roles(file: $0) } ?? [:],
                                actions: try config.map { try ActionConfiguration(file: $0) } ?? ActionConfiguration())
        store = try CommandStores.sqlite(folder: data)
        ledger = IncidentLedger(store: store)
        integrations = await Integrations(folder: scripts + "/integrations", settings: intel.integrations, quotas: store,
                                          logger: logger)
        reputation = ReputationService(feeds: FeedSet(intel.feeds, logger: logger), integrations: integrations,
                                           cache: store, ttl: intel.cacheTTL)
        console = ConsoleAdapter(user: user, lines: lines, write: write, afterEach: afterEach)
        chat = ChatService(store: store, adapters: [console], scripts: scripts,
                           rules: rules, logger: logger)
        evidence = EvidenceService(store: store, dataFolder: data)
        actions = ActionService(integrations: integrations, store: store, rules: rules, logger: logger)
        (options, self.logger) = (modules, logger)
        let modules = Self.modules(modules, logger: logger, reputation: reputation, ledger: ledger, evidence: evidence,
                                   chat: chat, actions: actions)
        let runs = try RunService(store: store, modules: modules, modulePaths: [scripts], executors: 1)
        incidents = try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
        // Read now, as a server reads it at its start: `!incident close` starts hooks/incident_closed.lua.
        _ = await incidents.playbooks()
        // The console resumes no stored run: one waiting on a task done here waits for a server.
        ledger.whenCompleted { await IncidentBackend.noteWaitingRun(of: $0, runs: runs) }
        try await chat.start(runs: runs, modules: modules)
    }

    /// Says `line` to the bot and returns once it has answered.
    func say(_ line: String) async {
        await console.say(line, to: chat)
        await chat.settle()
    }

    /// The modules of the bot's runs, over the folder's incidents: also the REPL's, when it
    /// investigates one of them.
    var modules: [any HostModule] {
        Self.modules(options, logger: logger, reputation: reputation, ledger: ledger, evidence: evidence, chat: chat,
                     actions: actions)
    }

    private static func modules(_ options: ModuleOptions, logger: Logger, reputation: ReputationService,
                                ledger: IncidentLedger, evidence: EvidenceService, chat: ChatService,
                                actions: ActionService) -> [any HostModule]
    {
        options.modules(logger: logger, reputation: reputation)
            + FolderModules.make(ledger: ledger, evidence: evidence, chat: chat, reputation: reputation, actions: actions)
    }

    /// Makes the console channel `channel` (`#inc-42`) the incident's war room: the bot's
    /// commands there take the incident as theirs, and what is said there is journaled on it.
    func makeWarRoom(_ channel: String, for incident: IncidentID, by actor: String) async throws {
        _ = try await chat.makeWarRoom(channel, on: nil, for: incident, by: actor)
    }

    func journal(_ entry: JournalEntry) async throws { try await store.write(.appendJournal([entry])) }

    /// Waits until the console's input ends.
    func waitForInput() async { await chat.waitForAdapters() }

    func settle() async { await chat.settle() }

    func close() async {
        await chat.shutdown()
        await incidents.shutdown()
        integrations.shutdown()
        withExtendedLifetime(lock) {}
    }
}
