import Foundation
public import Logging

/// The bot: what the chat adapters receive arrives here and becomes a run of a Lua script in
/// `scripts/commands/`. A command (`!ip 1.2.3.4` in a channel, `ip 1.2.3.4` in a direct message)
/// runs its command's script; any other message with an indicator or a file, in a channel the
/// bot watches or in a direct message, runs the watcher. Runs are durable like every run: a
/// command interrupted by a crash finishes after the restart.
///
/// It also keeps what the bot was told (the channels it watches, verbosely or not, and the war
/// rooms of incidents) and the questions runs wait on (`chat.ask`), answered by a button or a
/// reply in the question's thread, by someone with the role asked for.
///
/// ```swift
/// let chat = ChatService(store: store, adapters: [slack], scripts: "scripts")
/// let modules = StandardModules.all(logger: logger) + [ChatModule(service: chat, reputation: r, evidence: e), ...]
/// try await chat.start(runs: runService, modules: modules)
/// ```
public final class ChatService: ChatInbox, Sendable {
    /// The largest file downloaded to be checked.
    static let fileLimit = 64 << 20

    public let store: any ChatStore
    /// By network, in the order given: the first is the default of `chat.post` and the others.
    let adapters: [(network: String, adapter: any ChatAdapter)]
    /// `chat.roles`, shared with the server's actions and replaced with them on SIGHUP.
    let rules: AccessRules
    private let scripts: String
    let logger: Logger
    let attached = Locked<(runs: RunService, catalog: CommandCatalog)?>(nil)
    /// What the bot was told, by `network \0 channel id`.
    let settings = Locked<[String: ChatChannelSettings]>([:])
    let answerWaiters = Locked<[String: [@Sendable (Result<[LuaValue], HostError>) -> Void]]>([:])
    /// What waits here for a question's timeout (`waitForAnswer`), by a token of its own: a stop
    /// cancels them.
    let questionTimers = Locked<[UUID: Task<Void, Never>]>([:])
    /// Recent messages, for a command that answers one (`!file`, `!evidence` in its thread).
    let recent = Locked<RecentMessages>(RecentMessages(capacity: 2000))
    let unpostedWarnings = Locked<UnpostedQuestionWarnings>(UnpostedQuestionWarnings())
    /// The keys scripts gave `msg:once`, by `network \0 channel id \0 key` (the last thousand).
    private let said = Locked<RecentKeys>(RecentKeys(capacity: 1000))
    private let tasks = Locked<[Task<Void, Never>]>([])
    /// The runs started here that have not ended, those of them waiting for an answer, and the
    /// watcher's (not recorded: `shutdown` lets them end).
    let inFlight = Locked<(runs: Set<RunID>, asking: Set<RunID>, watching: Set<RunID>)>(([], [], []))

    public init(store: any ChatStore, adapters: [any ChatAdapter], scripts: String,
                rules: AccessRules = AccessRules(),
                logger: Logger = Logger(label: "automator.chat") { _ in SwiftLogNoOpLogHandler() })
    {
        self.store = store
        self.adapters = adapters.map { ($0.network, $0) }
        self.scripts = scripts
        self.rules = rules
        self.logger = logger
    }

    /// `chat.roles` as they are now: who may run which command, answer which question, approve.
    public var roles: [String: [String]] { rules.current.roles }

    /// Reads the commands and the settings, then connects every adapter (each reconnects on its
    /// own after a failure, with a growing pause) and receives from it, except from those that
    /// one worker alone may receive from (`receivesOnOneWorker`): they are only connected, and
    /// `receiveOnThisWorker` receives from them.
    ///
    /// - Parameter modules: those of `runs`; `ChatModule` must be one of them.
    public func start(runs: RunService, modules: [any HostModule]) async throws(ChatError) {
        let evaluator: ScriptEvaluator
        do { evaluator = try ScriptEvaluator(modules: modules, modulePaths: [scripts]) } catch {
            throw ChatError(.unavailable, "the chat commands cannot be read: \(error)")
        }
        let catalog = CommandCatalog(folder: scripts, evaluator: evaluator, logger: logger)
        await catalog.refresh(force: true)
        for (network, _) in adapters {
            do { try await loadSettings(of: network) } catch {
                throw ChatError(.unavailable, "the chat settings cannot be read: \(error)")
            }
        }
        attached.withLock { $0 = (runs, catalog) }
        for (network, adapter) in adapters {
            let task = Task { [self] in
                await keepConnected(network, adapter.connection) {
                    if adapter.receivesOnOneWorker { try await adapter.connect() } else { try await adapter.run(delivering: self) }
                }
            }
            tasks.withLock { $0.append(task) }
        }
    }

    /// Receives from the adapters that one worker alone may receive from, until cancelled: on
    /// the worker that leads those sharing a store, or the only one.
    public func receiveOnThisWorker() async {
        await withDiscardingTaskGroup { group in
            for (network, adapter) in adapters where adapter.receivesOnOneWorker {
                group.addTask { [self] in
                    await keepConnected(network, adapter.connection) { try await adapter.run(delivering: self) }
                }
            }
        }
    }

    /// What the bot was told in `network`, or in every network when nil, read again: another
    /// worker sharing the store was told something.
    public func settingsChangedElsewhere(in network: String?) async throws(StoreError) {
        for (each, _) in adapters where network == nil || each == network { try await loadSettings(of: each) }
    }

    private func loadSettings(of network: String) async throws(StoreError) {
        let known = try await store.chatChannels(network: network)
        settings.withLock { all in
            all = all.filter { $0.value.network != network }
            for each in known { all[Self.key(network, each.channel.id)] = each }
        }
    }

    /// The connections of the networks whose adapter tells (Matrix), for `/healthz` and `/metrics`.
    public var connections: [ChatConnection.Status] { adapters.compactMap { $0.adapter.connection?.status } }

    /// Returns when every adapter's connection has ended for good (the console's input ended).
    public func waitForAdapters() async {
        for task in tasks.withLock({ $0 }) { await task.value }
    }

    /// Disconnects the adapters, then gives the watcher's runs in flight `watcherGrace` to end;
    /// the other runs in progress are the run service's to stop. A watcher's run is not recorded:
    /// stopped, it would check its message again at the next start, and answer it twice if its
    /// answer was out already.
    public func shutdown() async {
        // The runs waiting on them are the run service's to stop: their replay waits again.
        for timer in questionTimers.withLock({ $0.values }) { timer.cancel() }
        let running = tasks.withLock { tasks in defer { tasks = [] }; return tasks }
        for task in running { task.cancel() }
        for task in running { await task.value }
        let deadline = ContinuousClock.now + Self.watcherGrace
        while inFlight.withLock({ !$0.watching.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// How long a stop waits for the watcher's runs: a lookup that hangs longer is made again
    /// at the next start, its message checked then.
    static let watcherGrace: Duration = .seconds(5)

    /// Runs `connecting` (an adapter's `run` or `connect`) until it returns (Slack's once its
    /// token is checked, the console's at the end of its input), again after each failure, which
    /// the adapter's `connection` logs when it has one.
    private func keepConnected(_ network: String, _ connection: ChatConnection?,
                               _ connecting: () async throws -> Void) async
    {
        var backoff = Backoff(first: .seconds(1), longest: .seconds(60))
        while !Task.isCancelled {
            let pause = backoff.next()
            do {
                try await connecting()
                return
            } catch {
                if Task.isCancelled { return }
                if let connection {
                    connection.failed(error, retryingIn: pause)
                } else {
                    logger.error("chat \(network): \(error); connecting again in \(pause.formatted)")
                }
            }
            try? await Task.sleep(for: pause)
        }
    }

    // MARK: Receiving

    public func receive(_ message: ChatMessage, from adapter: any ChatAdapter) async {
        if let me = adapter.me, message.user.id == me.id { return }
        if message.edit != nil { return await receive(edit: message, from: adapter) }
        let network = adapter.network
        if await answered(by: message, on: adapter) { return }
        recent.withLock { $0.remember(message, network: network) }
        let channel = settings.withLock { $0[Self.key(network, message.channel.id)] }
        if let incident = channel?.incident { await journal(message, on: incident, from: adapter) }
        guard let (runs, catalog) = attached.withLock({ $0 }) else { return }

        let direct = message.channel.isDirect
        let checkable = !message.files.isEmpty || Self.hasIndicators(message)
        if let (name, rest) = Self.command(in: message) {
            if let command = await catalog.command(name) {
                let (roles, what) = command.requirement(for: rest)
                guard !Self.rolesApply(to: message, on: adapter) || allowed(message.user, roles: roles, on: adapter)
                else {
                    await refuse(what, roles: roles, to: message, in: channel?.incident, on: adapter)
                    return
                }
                await start(command.path, command.source, message, network: network, extra: JSONText.string(rest),
                            incident: channel?.incident, runs: runs, adapter: adapter)
                return
            }
            // In a direct message any first word reads as a command: one that is not, in a
            // message with an indicator ("is 203.0.113.7 bad?"), is a question for the watcher.
            let question = direct && checkable && !message.text.hasPrefix("!")
            if !question, await answerUnknownCommand(name, in: message, catalog: catalog, on: adapter) { return }
        }
        guard direct || channel?.watched == true else { return }
        guard checkable else {
            if direct {
                await say("Send me an IP, a URL, a domain, a hash or a file and I check it; help lists my commands.",
                          answering: message, on: adapter)
            }
            return
        }
        await watch(message, in: channel, runs: runs, catalog: catalog, adapter: adapter)
    }

    /// Answers a command name that names none, with the command it likely meant (`Typo`).
    /// False, and nothing said, for a `!word` in a shared channel that is no typo of a command
    /// (none is, when the bot has no commands): people there type `!important` or `!wow` to one
    /// another, and the watcher may still check the message.
    private func answerUnknownCommand(_ name: String, in message: ChatMessage, catalog: CommandCatalog,
                                      on adapter: any ChatAdapter) async -> Bool
    {
        let commands = await catalog.commands.keys
        let toTheBot = message.channel.isDirect || !adapter.channelsAreShared
        guard !commands.isEmpty else {
            guard toTheBot else { return false }
            await say("I have no commands: \(catalog.folder)/commands holds none (give the bot the scripts folder that "
                + "holds commands/, as --scripts).", answering: message, on: adapter)
            return true
        }
        let meant = Typo.meant(by: name, among: commands)
        guard meant != nil || toTheBot else { return false }
        let bang = message.channel.isDirect ? "" : "!"
        await say("No command \(bang)\(name). " + (meant.map { "Did you mean \(bang)\($0)? " } ?? "")
            + "\(bang)help lists them.", answering: message, on: adapter)
        return true
    }

    /// True the first time a script gives `key` for the channel since the bot started (`msg:once`):
    /// for a note a channel needs once, not with every message. Per process, as what such notes
    /// tell of (an integration's pause) is.
    func once(_ key: String, network: String, channel: String) -> Bool {
        said.withLock { $0.insert(network + "\0" + channel + "\0" + key) }
    }

    /// Whether the message's text, or a link it carries, holds an indicator.
    static func hasIndicators(_ message: ChatMessage) -> Bool {
        !Extractor.extract(Array(([message.text] + message.links).joined(separator: "\n").utf8)).isEmpty
    }

    /// Starts the watcher on a message of a channel it watches (`settings`) or of a direct message.
    func watch(_ message: ChatMessage, in settings: ChatChannelSettings?, runs: RunService, catalog: CommandCatalog,
               adapter: any ChatAdapter) async
    {
        guard let watcher = await catalog.currentWatcher() else { return }
        let verbose = message.channel.isDirect || settings?.verbose == true
        await start(watcher.path, watcher.source, message, network: adapter.network,
                    extra: #"{"verbose":\#(verbose)}"#, incident: settings?.incident, runs: runs, adapter: adapter,
                    recorded: false)
    }

    public func receive(_ answer: ChatAnswer, from adapter: any ChatAdapter) async {
        let question: ChatQuestionRecord?
        do { question = try await store.question(answer.question) } catch {
            logger.error("chat: the question \(answer.question) cannot be read: \(error)")
            return
        }
        guard let question, question.answer == nil else { return }
        guard question.choices.contains(answer.choice) else { return }
        await record(answer.choice, to: question, by: answer.user, rolesApply: adapter.commandsNeedRoles, on: adapter)
    }

    /// The command a message gives, and what follows its name: `!name ...` anywhere, or
    /// `name ...` in a direct message.
    static func command(in message: ChatMessage) -> (name: String, rest: String)? {
        // Only the start is read: most messages are no command, and trimming each whole (with
        // Foundation's `CharacterSet`) was 1% of the server's time.
        var text = message.text.drop(while: \.isWhitespace)
        if text.hasPrefix("!") { text = text.dropFirst() } else if !message.channel.isDirect { return nil }
        let name = text.prefix { !$0.isWhitespace }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        let rest = text.dropFirst(name.count).trimmingCharacters(in: .whitespacesAndNewlines)
        return (name.lowercased(), rest)
    }

    /// Starts the run of a command or of the watcher, answering `message`. A command's run is
    /// recorded: it may change things, wait for people, and resumes by replay after a crash. The
    /// watcher's is not (`recorded`): it only reads and answers, so it starts before its run's row
    /// is committed and records no host call; a crash before its end makes it check the message
    /// again and answer again (at least once, as Slack's own retries do).
    private func start(_ path: String, _ source: [UInt8], _ message: ChatMessage, network: String, extra: String,
                       incident: IncidentID?, runs: RunService, adapter: any ChatAdapter, recorded: Bool = true) async
    {
        // A command may act on the message it answers (`!evidence`, `!file`), so it is looked for
        // on the network too; the watcher checks its own message, and waits for no request.
        let replied = await self.replied(to: message, on: adapter, askingTheNetwork: recorded)
        let arguments = "[" + Self.json(message, on: adapter, incident: incident, replied: replied) + "," + extra + "]"
        let id = RunID.make()
        inFlight.withLock { inFlight in
            inFlight.runs.insert(id)
            if !recorded { inFlight.watching.insert(id) }
        }
        do {
            _ = try await runs.submit(id: id, script: path, source: source, arguments: arguments,
                                      entry: .chat(actor: Self.actor(message.user, on: adapter)), recorded: recorded)
            { [self] ended in
                // A failure is told to whoever asked, not only logged: they are waiting for an answer.
                guard let ended, ended.status == .failed else {
                    forget(id)
                    return
                }
                Task {
                    await say(FailedCommand.answer(path, error: ended.error, run: id), answering: message, on: adapter)
                    forget(id)
                }
            }
        } catch {
            if case .store = error, !recorded {
                // The watcher runs anyway: the message is answered, but a crash now would lose it.
                logger.error("chat: the message of \(message.user.name) could not be kept: \(error)")
                return
            }
            forget(id)
            logger.error("chat: \(path) did not start: \(error)")
            await say("\(path) did not start: \(error)", answering: message, on: adapter)
        }
    }

    /// Forgets a run that ended, or stopped unfinished.
    private func forget(_ id: RunID) {
        inFlight.withLock { inFlight in
            inFlight.runs.remove(id)
            inFlight.watching.remove(id)
        }
    }

    /// The message `message` answers in its thread: from memory, else, `askingTheNetwork`, from
    /// the network (Slack sends each event to one worker of several, and a restart forgets).
    private func replied(to message: ChatMessage, on adapter: any ChatAdapter, askingTheNetwork: Bool) async
        -> ChatMessage?
    {
        guard let id = message.replyTo ?? message.thread else { return nil }
        return await self.message(id, in: message.channel, on: adapter, askingTheNetwork: askingTheNetwork)
    }

    /// A message of `channel` from memory, else, `askingTheNetwork`, from the network.
    func message(_ id: String, in channel: ChatChannel, on adapter: any ChatAdapter, askingTheNetwork: Bool = true) async
        -> ChatMessage?
    {
        if let known = recent.withLock({ $0.message(id, channel: channel.id, network: adapter.network) }) {
            return known
        }
        guard askingTheNetwork else { return nil }
        do { return try await adapter.message(id, in: channel) } catch {
            logger.warning("chat \(adapter.network): the message \(id) of \(channel.name) is unreadable: \(error)")
            return nil
        }
    }

    /// A message as the scripts see it (`msg`).
    static func json(_ message: ChatMessage, on adapter: any ChatAdapter, incident: IncidentID?, replied: ChatMessage?)
        -> String
    {
        var object = JSONText.Object()
        object["id"] = JSONText.string(message.id)
        object["network"] = JSONText.string(adapter.network)
        object["text"] = JSONText.string(message.text)
        var channel = JSONText.Object()
        channel["id"] = JSONText.string(message.channel.id)
        channel["name"] = JSONText.string(message.channel.name)
        channel["direct"] = message.channel.isDirect ? "true" : "false"
        object["channel"] = channel.text
        var user = JSONText.Object()
        user["id"] = JSONText.string(message.user.id)
        user["name"] = JSONText.string(message.user.name)
        user["handle"] = JSONText.string(handle(message.user, on: adapter))
        user["who"] = JSONText.string(who(message.user, on: adapter))
        object["user"] = user.text
        object["thread"] = message.thread.map(JSONText.string)
        object["reply_to"] = message.replyTo.map(JSONText.string)
        object["files"] = JSONText.array(message.files.map(fileJSON))
        object["links"] = JSONText.array(message.links.map(JSONText.string))
        object["edit"] = message.edit.map { edit in
            var object = JSONText.Object()
            object["previous"] = edit.previousText.map(JSONText.string)
            return object.textWithoutNulls
        }
        object["at"] = JSONText.seconds(message.at)
        object["incident"] = incident.map { JSONText.string($0.description) }
        object["replied"] = replied.map { json($0, on: adapter, incident: incident, replied: nil) }
        return object.textWithoutNulls
    }

    private static func fileJSON(_ file: ChatFile) -> String {
        String(decoding: (try? JSONEncoder().encode(file)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Keeps a war room's message, or a message's edit, in its incident's journal: the text, and
    /// what the text does not show (the files, a link's target).
    func journal(_ message: ChatMessage, on incident: IncidentID, from adapter: any ChatAdapter) async {
        let files = message.files.map(\.name).joined(separator: ", ")
        let links = message.links.joined(separator: " ")
        let text = (message.edit == nil ? "" : "edited: ") + message.text + (files.isEmpty ? "" : " [files: \(files)]")
            + (links.isEmpty ? "" : " [links: \(links)]")
        let entry = JournalEntry(incident: incident, at: message.at, actor: Self.actor(message.user, on: adapter), kind: .chat,
                                 text: text)
        do { try await store.write(.appendJournal([entry])) } catch {
            logger.error("chat: the message of \(message.user.name) could not be journaled on \(incident): \(error)")
        }
    }

    /// Says why a command was refused, and keeps the attempt: in the war room's journal when
    /// the channel is one, in the log always.
    private func refuse(_ what: String, roles: [String], to message: ChatMessage, in incident: IncidentID?,
                        on adapter: any ChatAdapter) async {
        // A direct message takes no `!`: the command as it is typed there.
        let typed = message.channel.isDirect && what.hasPrefix("!") ? String(what.dropFirst()) : what
        let named = roles.joined(separator: " or ")
        let nobody = UnassignedRole.none(of: roles, in: self.roles)
        // Where roles name people by id, the person learns theirs: what the configuration needs.
        let who = adapter.namesAreUnique ? "" : "; you are \(message.user.id)"
        await say("\(typed) is for people with the role \(named)" + (nobody
            ? ", and no one has it yet: the configuration names them in chat.roles.\(roles[0])." : "\(who)."),
                  answering: message, on: adapter)
        let actor = Self.actor(message.user, on: adapter)
        logger.notice("chat: \(what) refused to \(actor), who has no role \(named)")
        guard let incident else { return }
        let entry = JournalEntry(incident: incident, actor: actor, kind: .refused, text: "\(what), for the role \(named)")
        do { try await store.write(.appendJournal([entry])) } catch {
            logger.error("chat: the refusal of \(what) to \(actor) could not be journaled on \(incident): \(error)")
        }
    }

    /// Answers the bot's own post, in the thread in a channel: errors and refusals of the host.
    private func say(_ text: String, answering message: ChatMessage, on adapter: any ChatAdapter) async {
        let thread = message.channel.isDirect ? nil : message.thread ?? message.id
        do { _ = try await adapter.post(ChatPost(channel: message.channel.id, text: text, thread: thread)) } catch {
            logger.error("chat \(adapter.network): could not answer \(message.user.name): \(error)")
        }
    }

    /// Returns once every run started here has ended or waits for an answer: `automator chat`
    /// reading a file takes its lines one at a time.
    public func settle() async {
        while inFlight.withLock({ !$0.runs.isSubset(of: $0.asking) }) {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Who acted, for the journal and the runs: `slack:alice`, `matrix:@alice:example.org`.
    static func actor(_ user: ChatUser, on adapter: any ChatAdapter) -> String {
        adapter.network + ":" + handle(user, on: adapter)
    }

    /// What names a person for good: their name where names are unique (a Slack handle), else
    /// their id (`@alice:example.org`), since anyone may take a display name such as "alice".
    static func handle(_ user: ChatUser, on adapter: any ChatAdapter) -> String {
        adapter.namesAreUnique ? user.name : user.id
    }

    /// A person as the bot writes them in what is kept (notes, evidence, answers): their handle,
    /// and their display name beside it when it differs (`@mallory:example.org (alice)`).
    static func who(_ user: ChatUser, on adapter: any ChatAdapter) -> String {
        let handle = handle(user, on: adapter)
        return handle == user.name ? handle : "\(handle) (\(user.name))"
    }

    /// Whether `user` holds one of `roles` (anyone, when there are none), as the network names
    /// people (`ChatAdapter.names`).
    func allowed(_ user: ChatUser, roles: [String], on adapter: any ChatAdapter) -> Bool {
        let held = self.roles
        return roles.isEmpty || roles.contains { role in held[role]?.contains { adapter.names(user, as: $0) } ?? false }
    }

    /// Whether roles apply to who sent `message`: always in Slack and Matrix; at a terminal only
    /// to a personal token's line (`ChatMessage.rolesApply`), since whoever else types there holds
    /// the data folder or the server's shared token, the operator's authority.
    static func rolesApply(to message: ChatMessage, on adapter: any ChatAdapter) -> Bool {
        adapter.commandsNeedRoles || message.rolesApply == true
    }

    static func key(_ network: String, _ channel: String) -> String { network + "\u{0}" + channel }
}
