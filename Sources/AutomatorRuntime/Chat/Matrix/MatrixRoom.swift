import Foundation

/// What the adapter knows of a room from its state: enough to name it, its members, and to tell
/// a direct conversation.
struct MatrixRoom: Sendable {
    var name: String?
    /// The canonical alias, `#soc:example.org`.
    var alias: String?
    /// The joined and invited members, by user id, with the names they show in the room.
    var members: [String: String] = [:]

    init(state: [MatrixEvent] = []) {
        for event in state { apply(event) }
    }

    /// Takes in a state event; other events change nothing.
    mutating func apply(_ event: MatrixEvent) {
        guard let key = event.stateKey else { return }
        switch event.type {
        case "m.room.name": name = event.content.name.flatMap { $0.isEmpty ? nil : $0 }
        case "m.room.canonical_alias": alias = event.content.alias
        case "m.room.member" where key.hasPrefix("@"):
            switch event.content.membership {
            case "join", "invite":
                let shown = event.content.displayname?.trimmingCharacters(in: .whitespaces) ?? ""
                members[key] = shown.isEmpty ? MatrixID.localpart(key) : shown
            default: members[key] = nil
            }
        default: break
        }
    }

    /// The name `user` shows here: their display name in the room, else their localpart.
    func name(of user: String) -> String { members[user] ?? MatrixID.localpart(user) }

    /// A room with the bot and one person and neither a name nor an alias, or one the bot's
    /// `m.direct` lists, is a direct conversation, named after the person. The others are
    /// channels, named by `m.room.name`, else their alias, else their id: a `#soc` that only one
    /// analyst has joined yet is still a channel.
    func channel(id: String, me: String, direct: Set<String>) -> ChatChannel {
        if direct.contains(id) || (members.count == 2 && members[me] != nil && name == nil && alias == nil) {
            let other = members.keys.filter { $0 != me }.sorted().first
            return ChatChannel(id: id, name: other.map(name(of:)) ?? id, isDirect: true)
        }
        return ChatChannel(id: id, name: name ?? alias.map(MatrixID.localpart) ?? id)
    }
}
