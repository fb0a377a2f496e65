import AutomatorRuntime
import AutomatorServer
import Foundation
import Logging

/// The bot on a data folder, with the terminal as its chat network: what `automator chat` and
/// the REPL's `!` lines talk to. It works as `automator serve` would on the folder (incidents,
/// notes and tasks are the server's), and so needs the folder to itself.
final class ChatConsole: Sendable {
    private let chat: ChatService
    private let console: ConsoleAdapter
    private let incidents: IncidentService
    private let integrations: Integrations
    private let lock: DataFolderLock?

    /// - Parameter lines: what the console reads until it ends (none for the REPL, which says
    ///   each line itself).
    init(data: String, scripts: String, config: String?, user: String, modules: ModuleOptions, logger: Logger,
         lines: AsyncStream<String>, afterEach: @escaping @Sendable () async -> Void = {}) async throws
    {
        guard case .direct(let lock) = try FolderAccess.open(data) else {
            throw CommandFailure("automator serve holds \(data): talk to its bot in Slack or Matrix, or stop it to chat here")
        }
        self.lock = lock
        let intel = try config.map { try IntelConfiguration(file: $0) } ?? IntelConfiguration()
        let store = try SQLiteStore(folder: data)
        let ledger = try await IncidentLedger(store: store)
        integrations = await Integrations(folder: scripts + "/integrations", settings: intel.integrations, logger: logger)
        let reputation = ReputationService(feeds: FeedSet(intel.feeds, logger: logger), integrations: integrations,
                                           cache: store, ttl: intel.cacheTTL)
        console = ConsoleAdapter(user: user, lines: lines, write: { print($0) }, afterEach: afterEach)
        chat = ChatService(store: store, adapters: [console], scripts: scripts, logger: logger)
        let evidence = EvidenceService(store: store, dataFolder: data)
        let modules = modules.modules(logger: logger, reputation: reputation)
            + [IncidentsModule(ledger: ledger), EvidenceModule(service: evidence),
               ChatModule(service: chat, reputation: reputation, evidence: evidence)]
        let runs = try RunService(store: store, modules: modules, modulePaths: [scripts], executors: 1)
        incidents = try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
        try await chat.start(runs: runs, modules: modules)
    }

    /// Says `line` to the bot and returns once it has answered.
    func say(_ line: String) async {
        await console.say(line, to: chat)
        await chat.settle()
    }

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
