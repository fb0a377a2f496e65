import Foundation
import Logging

/// What the `chat` module asks of the networks: posts, reactions, files, and the bot's settings
/// per channel (`join`, `leave`, `verbose`, war rooms).
extension ChatService {
    /// The adapter of `network`, or the first configured that is a default network.
    func adapter(_ network: String?) throws(ChatError) -> any ChatAdapter {
        guard let network else {
            guard let first = adapters.first(where: { $0.adapter.isDefaultNetwork }) else {
                throw ChatError(.notFound, "no chat network is configured: add chat.slack or chat.matrix to the "
                    + "configuration, or use automator chat")
            }
            return first.adapter
        }
        guard let found = adapters.first(where: { $0.network == network }) else {
            throw ChatError(.notFound, "the chat network \"\(network)\" is not configured (configured: "
                + adapters.map(\.network).joined(separator: ", ") + ")")
        }
        return found.adapter
    }

    /// A channel by id, `#name` or name. A name is asked of the network first (a channel may
    /// have been renamed since the bot was told about it), else of what the bot was told; a name
    /// that several channels share is refused with their ids, since a guess would post a verdict
    /// or journal a war room in the wrong one.
    func resolve(_ channel: String, on adapter: any ChatAdapter) async throws -> ChatChannel {
        let name = channel.hasPrefix("#") && adapter.network != "matrix" ? String(channel.dropFirst()) : channel
        let known = settings.withLock { all in all.values.filter { $0.network == adapter.network }.map(\.channel) }
        if let byID = known.first(where: { $0.id == name }) { return byID }
        var found = try await adapter.channels(named: name)
        if found.isEmpty { found = known.filter { $0.name == name } }
        guard found.count < 2 else {
            let ids = found.map(\.id).sorted()
            throw ChatError(.ambiguous, "\(found.count) channels on \(adapter.network) are named #\(found[0].name): "
                + ids.joined(separator: ", ") + "; name the one you mean by its id, as in join \(ids[0])")
        }
        guard let only = found.first else {
            throw ChatError(.notFound, "there is no channel \(channel) on \(adapter.network) that the bot can see")
        }
        return only
    }

    /// Posts a script's message; with `journaling`, the war room's incident, keeps it in that
    /// incident's journal as the bot's line: the verdict the team acted on belongs to its record.
    /// `mentioning` are notified (`ChatPost.mentions`), and left out of the journal.
    func post(_ text: String, to channel: String, on network: String?, thread: String?,
              journaling incident: IncidentID? = nil, mentioning mentions: [String] = []) async throws -> String {
        let adapter = try adapter(network)
        let target = try await resolve(channel, on: adapter)
        let id = try await adapter.post(ChatPost(channel: target.id, text: text, thread: thread, mentions: mentions)).id
        guard let incident else { return id }
        let entry = JournalEntry(incident: incident, actor: "automator", kind: .chat, text: text)
        // Said already: a journal that cannot be written is logged, not told as a failed answer.
        do { try await store.write(.appendJournal([entry])) } catch {
            logger.error("chat: the bot's answer could not be journaled on \(incident): \(error)")
        }
        return id
    }

    /// A post of the host's own (a refusal, who answered); failures are logged.
    func post(_ text: String, in channel: String, thread: String?, on adapter: any ChatAdapter) async {
        do { _ = try await adapter.post(ChatPost(channel: channel, text: text, thread: thread)) } catch {
            logger.error("chat \(adapter.network): could not post in \(channel): \(error)")
        }
    }

    func react(to message: ChatMessageRef, with emoji: String, on network: String) async throws {
        try await adapter(network).react(to: message, with: emoji)
    }

    func download(_ file: ChatFile, on network: String) async throws -> [UInt8] {
        try await adapter(network).download(file, limit: Self.fileLimit)
    }

    func upload(_ data: [UInt8], named name: String, to channel: String, on network: String?, comment: String?) async throws {
        let adapter = try adapter(network)
        let target = try await resolve(channel, on: adapter)
        try await adapter.upload(to: target.id, name: name, data: data, comment: comment)
    }

    // MARK: Settings

    func channelsJSON(on network: String?) async throws -> String {
        let network = try adapter(network).network
        let known = settings.withLock { $0.values.filter { $0.network == network } }
        return JSONText.array(known.sorted { ($0.channel.name, $0.channel.id) < ($1.channel.name, $1.channel.id) }
            .map(Self.json))
    }

    func availableJSON(on network: String?) async throws -> String {
        let channels = try await adapter(network).channels()
        return JSONText.array(channels.sorted { $0.name < $1.name }.map(Self.json))
    }

    /// The channel `channel` names as `join` finds it (by id, name, or a Matrix alias through the
    /// room directory), for the commands that look it up among the bot's own by its id.
    func channelJSON(_ channel: String, on network: String?) async throws -> String {
        let adapter = try adapter(network)
        return Self.json(try await resolve(channel, on: adapter))
    }

    private static func json(_ channel: ChatChannel) -> String {
        var object = JSONText.Object()
        object["id"] = JSONText.string(channel.id)
        object["name"] = JSONText.string(channel.name)
        return object.text
    }

    /// Joins the channel and watches it, if the bot may post there: a watcher whose verdicts
    /// go unsaid would leave the channel's silence reading as "nothing bad". Refused, it leaves
    /// again, unless the channel is a war room (journaling needs no post).
    func join(_ channel: String, on network: String?, by actor: String) async throws -> String {
        let adapter = try adapter(network)
        let target = try await resolve(channel, on: adapter)
        try await adapter.join(target)
        if let refusal = try await adapter.postingRefusal(in: target) {
            let known = settings.withLock { $0[Self.key(adapter.network, target.id)] }
            if known?.incident == nil { try await adapter.leave(target) }
            // Watched once, muted since: it is watched no more, as `status` then says.
            if known?.watched == true {
                _ = try await change(target, on: adapter.network, by: actor) {
                    $0.watched = false
                    $0.verbose = false
                }
            }
            throw ChatError(.forbidden, "the bot may not post in \(Self.named(target)), so its verdicts would go unsaid "
                + "there: \(refusal), then join it again")
        }
        return try await change(target, on: adapter.network, by: actor) { $0.watched = true }
    }

    /// Stops watching the channel and leaves it; a war room stops being one (its incident's
    /// journal says so, and keeps what was said).
    func leave(_ channel: String, on network: String?, by actor: String) async throws -> String {
        let adapter = try adapter(network)
        let target = try await resolve(channel, on: adapter)
        try await adapter.leave(target)
        if let incident = settings.withLock({ $0[Self.key(adapter.network, target.id)]?.incident }) {
            try await store.write(.appendJournal([JournalEntry(
                incident: incident, actor: actor, kind: .chat,
                text: "\(Self.named(target)) on \(adapter.network) is no longer the war room: the bot left it")]))
        }
        return try await change(target, on: adapter.network, by: actor) {
            $0.watched = false
            $0.verbose = false
            $0.incident = nil
        }
    }

    /// Verbose on: every result is posted (the channel is joined if it was not). Off: only the
    /// malicious ones.
    func setVerbose(_ on: Bool, _ channel: String, on network: String?, by actor: String) async throws -> String {
        let adapter = try adapter(network)
        let target = try await resolve(channel, on: adapter)
        let watched = settings.withLock { $0[Self.key(adapter.network, target.id)]?.watched ?? false }
        if on && !watched { try await adapter.join(target) }
        return try await change(target, on: adapter.network, by: actor) {
            $0.verbose = on
            if on { $0.watched = true }
        }
    }

    /// Makes `channel` the incident's war room unless it is already (`makeWarRoom` journals each
    /// time it is called).
    public func ensureWarRoom(_ channel: String, on network: String, for incident: IncidentID, by actor: String)
        async throws
    {
        let target = try await resolve(channel, on: try adapter(network))
        let current = settings.withLock { $0[Self.key(network, target.id)]?.incident }
        if current != incident { _ = try await makeWarRoom(target.id, on: network, for: incident, by: actor) }
    }

    /// Makes `channel` the incident's war room, journaled on it, and on the incident whose war
    /// room it was, if any: that journal ends there.
    public func makeWarRoom(_ channel: String, on network: String?, for incident: IncidentID, by actor: String) async throws
        -> String
    {
        let adapter = try adapter(network)
        let target = try await resolve(channel, on: adapter)
        let place = "\(Self.named(target)) on \(adapter.network)"
        var entries = [JournalEntry(incident: incident, actor: actor, kind: .chat, text: "\(place) is the war room")]
        if let previous = settings.withLock({ $0[Self.key(adapter.network, target.id)]?.incident }), previous != incident {
            entries.append(JournalEntry(incident: previous, actor: actor, kind: .chat,
                                        text: "\(place) is no longer the war room: it is \(incident)'s now"))
        }
        try await store.write(.appendJournal(entries))
        return try await change(target, on: adapter.network, by: actor) { $0.incident = incident }
    }

    /// `#soc (C0123)`, `#ops (!abc:example.org)`: a channel as what is kept names it, by its id
    /// too, since names change and may be shared; `#soc` on the console, whose ids are names.
    static func named(_ channel: ChatChannel) -> String {
        channel.id == "#" + channel.name ? channel.id : "#\(channel.name) (\(channel.id))"
    }

    private func change(_ channel: ChatChannel, on network: String, by actor: String,
                        _ body: (inout ChatChannelSettings) -> Void) async throws -> String
    {
        let key = Self.key(network, channel.id)
        var updated = settings.withLock { $0[key] } ?? ChatChannelSettings(network: network, channel: channel, changedBy: actor)
        updated.channel = ChatChannel(id: channel.id, name: channel.name)
        body(&updated)
        updated.changedBy = actor
        updated.changedAt = Date().roundedToMilliseconds
        try await store.write(.setChatChannel(updated))
        settings.withLock { $0[key] = updated }
        return Self.json(updated)
    }

    private static func json(_ settings: ChatChannelSettings) -> String {
        var object = JSONText.Object()
        object["id"] = JSONText.string(settings.channel.id)
        object["name"] = JSONText.string(settings.channel.name)
        object["watched"] = settings.watched ? "true" : "false"
        object["verbose"] = settings.verbose ? "true" : "false"
        object["incident"] = settings.incident.map { JSONText.string($0.description) }
        object["changed_by"] = JSONText.string(settings.changedBy)
        return object.textWithoutNulls
    }

    func commandsJSON() async -> String {
        guard let catalog = attached.withLock({ $0?.catalog }) else { return "[]" }
        await catalog.refresh()
        return JSONText.array(await catalog.commands.values.sorted { $0.name < $1.name }.map { command in
            var object = JSONText.Object()
            object["name"] = JSONText.string(command.name)
            object["usage"] = JSONText.string(command.usage)
            object["help"] = JSONText.string(command.help)
            object["roles"] = JSONText.array(command.roles.map(JSONText.string))
            var byWord = JSONText.Object()
            for (word, roles) in command.rolesByWord.sorted(by: { $0.key < $1.key }) {
                byWord[word] = JSONText.array(roles.map(JSONText.string))
            }
            object["roles_by_word"] = byWord.text
            return object.text
        })
    }
}
