import Foundation

/// `chat`: the bot's side of the chat networks, for its commands (`command { ... }`), its channel
/// watcher (`watch { ... }`) and for playbooks (`chat.post`, `chat.ask`, `chat.approve`).
///
/// The objects are written in Lua (`ChatModule+Lua.swift`) over host functions the scripts do
/// not see; each reaches the networks through the `ChatService`. Posts are recorded like any
/// waiting call, so a replayed run does not post twice; a question is kept in the store, so a
/// run waiting for its answer survives a restart.
public struct ChatModule: HostModule {
    public let name = "chat"
    private let service: ChatService
    private let reputation: ReputationService?
    private let evidence: EvidenceService?

    /// - Parameters:
    ///   - reputation: what `msg:check(file)` asks about a file's hashes.
    ///   - evidence: where `msg:keep(file, incident)` keeps files.
    public init(service: ChatService, reputation: ReputationService?, evidence: EvidenceService?) {
        self.service = service
        self.reputation = reputation
        self.evidence = evidence
    }

    public func register(in table: inout ModuleTable) {
        LuaNearest.register(in: &table)
        let service = self.service
        let state = table.state
        let actor: () -> String = { [unowned(unsafe) state] in state.actor }
        // post(network, channel, text, thread, incident id to journal it on) -> message id
        table.waitingFunction("post") { call in
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            let text = try call.string(3).description
            let thread = try Self.optionalString(call, 4)
            let incident = try Self.optionalString(call, 5).map { text throws(HostError) in
                guard let incident = IncidentID(text) else {
                    throw HostError.argument(5, "an incident id such as INC-42 expected, got \"\(text)\"")
                }
                return incident
            }
            return .task {
                [.string(LuaString(try await service.post(text, to: channel, on: network, thread: thread,
                                                          journaling: incident)))]
            }
        }
        // react(network, channel id, message id, emoji)
        table.waitingFunction("react") { call in
            let network = try call.string(1).description
            let channel = try call.string(2).description
            let message = try call.string(3).description
            let emoji = try call.string(4).description
            return .task {
                try await service.react(to: ChatMessageRef(channel: channel, id: message), with: emoji, on: network)
                return []
            }
        }
        // once(network, channel id, key) -> true the first time the key is given for that channel
        table.function("once") { call in
            let (network, channel, key) = (try call.string(1).description, try call.string(2).description,
                                           try call.string(3).description)
            return call.push(boolean: service.once(key, network: network, channel: channel))
        }
        // download(network, file as JSON) -> bytes
        table.waitingFunction("download") { call in
            let network = try call.string(1).description
            let file = try Self.file(call, 2)
            return .task { [.string(LuaString(bytes: try await service.download(file, on: network)))] }
        }
        // check(network, file as JSON) -> the verdict on its hashes: the bytes stay in the host
        // (a durable run records what host calls return, and files can be large).
        let reputation = self.reputation
        table.waitingFunction("check") { call in
            let network = try call.string(1).description
            let file = try Self.file(call, 2)
            guard let reputation else { throw HostError(IntelModule.unconfigured) }
            return .task {
                // Hashing a file of up to `fileLimit`: not on the executor's thread.
                let (hashes, verdict) = try await inSwiftsPool {
                    await reputation.reputation(ofFile: try await service.download(file, on: network))
                }
                guard case .table(var result) = IntelModule.table(verdict) else { return [] }
                result.fields["md5"] = .string(LuaString(hashes.md5))
                result.fields["sha1"] = .string(LuaString(hashes.sha1))
                result.fields["sha256"] = .string(LuaString(hashes.sha256))
                return [.table(result)]
            }
        }
        // keep(network, file JSON or nil, text, name, incident, description) -> evidence JSON: a file
        // of the message, or its text, kept as evidence (downloaded in the host).
        let evidence = self.evidence
        table.waitingFunction("keep") { call in
            let network = try call.string(1).description
            let file = call.isNoneOrNil(2) ? nil : try Self.file(call, 2)
            let text = try call.string(3).bytes
            let name = try call.string(4).description
            guard let incident = IncidentID(try call.string(5).description) else {
                throw HostError.argument(4, "an incident id such as INC-42 expected")
            }
            let description = try call.string(6).description
            guard let evidence else { throw HostError("evidence is not available here: it needs a data folder") }
            let by = actor()
            return .task {
                // Hashing and copying a file of up to `fileLimit`: not on the executor's thread.
                let kept = try await inSwiftsPool {
                    let bytes = if let file { try await service.download(file, on: network) } else { text }
                    return try await evidence.add(bytes: bytes, to: incident, name: file?.name ?? name,
                                                  description: description, source: "chat", by: by)
                }
                return [.string(LuaString(EvidenceJSON.forScript(kept, custody: [])))]
            }
        }
        // upload(network, channel, name, data, comment)
        table.waitingFunction("upload") { call in
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            let name = try call.string(3).description
            let data = try call.string(4).bytes
            let comment = try Self.optionalString(call, 5)
            return .task {
                try await service.upload(data, named: name, to: channel, on: network, comment: comment)
                return []
            }
        }
        // about(incident): the incident the next `ask` is for, when the run has none of its own (a
        // war room's !action). Not an argument of `ask`, whose arguments a replay compares with the
        // runs recorded before it; not a recorded call either: a replay gets `ask`'s recorded id,
        // and the question kept its incident when it was asked.
        let asking = NextQuestion()
        table.function("about") { call in
            let text = try call.string(1).description
            guard let incident = IncidentID(text) else {
                throw HostError.argument(1, "an incident id such as INC-42 expected, got \"\(text)\"")
            }
            asking.incident = incident
            return 0
        }
        // note(text): a line the next `ask` posts under its question (`options.note`), as `about`:
        // neither an argument of `ask` nor recorded, so a note added or changed (an action's ttl,
        // said in its approval) leaves the runs recorded before replaying as they were.
        table.function("note") { call in
            asking.note = try call.string(1).description
            return 0
        }
        // ask(network, channel, text, choices JSON, roles JSON or nil, approval) -> question id;
        // `approval` is not read (see chat.ask in Lua).
        table.waitingFunction("ask") { [unowned(unsafe) state] call in
            let (incident, note) = (asking.incident, asking.note)
            (asking.incident, asking.note) = (nil, nil)
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            let text = try call.string(3).description + (note.map { "\n" + $0 } ?? "")
            let choices = try Self.strings(call, 4)
            guard !choices.isEmpty else { throw HostError.argument(3, "at least one choice expected") }
            let roles = call.isNoneOrNil(5) ? [] : try Self.strings(call, 5)
            let run = state.activeRun?.id
            return .task {
                let id = try await service.ask(text, choices: choices, roles: roles,
                                               in: channel, on: network, run: run, incident: incident)
                return [.string(LuaString(id))]
            }
        }
        // answer(question id, timeout in seconds or nil) -> choice, who
        table.waitingFunction("answer") { [unowned(unsafe) state] call in
            let id = try call.string(1).description
            let timeout = call.isNoneOrNil(2) ? nil : try call.number(2)
            let run = state.activeRun?.id
            return .event { complete in service.waitForAnswer(id, run: run, timeout: timeout, complete) }
        }
        table.waitingFunction("channels") { call in
            let network = try Self.optionalString(call, 1)
            return .task { [.string(LuaString(try await service.channelsJSON(on: network)))] }
        }
        table.waitingFunction("available") { call in
            let network = try Self.optionalString(call, 1)
            return .task { [.string(LuaString(try await service.availableJSON(on: network)))] }
        }
        table.waitingFunction("channel") { call in
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            return .task { [.string(LuaString(try await service.channelJSON(channel, on: network)))] }
        }
        // join/leave(network, channel name or id)
        table.waitingFunction("join") { call in
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            let by = actor()
            return .task { [.string(LuaString(try await service.join(channel, on: network, by: by)))] }
        }
        table.waitingFunction("leave") { call in
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            let by = actor()
            return .task { [.string(LuaString(try await service.leave(channel, on: network, by: by)))] }
        }
        table.waitingFunction("verbose") { call in
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            let on = call.boolean(3)
            let by = actor()
            return .task { [.string(LuaString(try await service.setVerbose(on, channel, on: network, by: by)))] }
        }
        // warroom(network, channel, incident id)
        table.waitingFunction("warroom") { call in
            let network = try Self.optionalString(call, 1)
            let channel = try call.string(2).description
            let text = try call.string(3).description
            guard let incident = IncidentID(text) else {
                throw HostError.argument(3, "an incident id such as INC-42 expected, got \"\(text)\"")
            }
            let by = actor()
            return .task { [.string(LuaString(try await service.makeWarRoom(channel, on: network, for: incident, by: by)))] }
        }
        table.waitingFunction("commands") { _ in
            .task { [.string(LuaString(await service.commandsJSON()))] }
        }
    }

    /// The incident `about` named, taken by the `ask` after it in this state.
    /// What `about` and `note` say of the next `ask`.
    private final class NextQuestion {
        var incident: IncidentID?
        var note: String?
    }

    private static func optionalString(_ call: LuaCall, _ position: Int32) throws(HostError) -> String? {
        call.isNoneOrNil(position) ? nil : try call.string(position).description
    }

    private static func file(_ call: LuaCall, _ position: Int32) throws(HostError) -> ChatFile {
        guard let file = try? JSONDecoder().decode(ChatFile.self, from: Data(try call.string(position).bytes)) else {
            throw HostError.argument(1, "a file of msg.files expected")
        }
        return file
    }

    private static func strings(_ call: LuaCall, _ position: Int32) throws(HostError) -> [String] {
        guard let list = try? JSONDecoder().decode([String].self, from: Data(try call.string(position).bytes)) else {
            throw HostError.argument(position - 1, "a list of strings expected")
        }
        return list
    }
}
