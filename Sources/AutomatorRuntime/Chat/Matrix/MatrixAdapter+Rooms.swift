import Foundation
import NIOHTTP1
import Synchronization

extension MatrixAdapter {
    /// The rooms the bot is in, direct conversations excluded.
    public func channels() async throws -> [ChatChannel] {
        var channels: [ChatChannel] = []
        for id in try await joinedRooms() {
            let channel = try await channel(for: id)
            if !channel.isDirect { channels.append(channel) }
        }
        return channels
    }

    /// The room of an id (`!abc:example.org`) the bot is in; the rooms it is in of a name (`soc`:
    /// their `m.room.name` or their alias' localpart), several when rooms share it; or any room
    /// by alias (`#soc:example.org`), through the directory, to join it.
    public func channels(named nameOrID: String) async throws -> [ChatChannel] {
        if nameOrID.hasPrefix("!") {
            guard try await joinedRooms().contains(nameOrID) else { return [] }
            return [try await channel(for: nameOrID)]
        }
        if nameOrID.hasPrefix("#"), nameOrID.contains(":") {
            guard let id = try await resolve(alias: nameOrID) else { return [] }
            guard try await joinedRooms().contains(id) else {
                return [ChatChannel(id: id, name: MatrixID.localpart(nameOrID))]
            }
            return [try await channel(for: id)]
        }
        let name = nameOrID.hasPrefix("#") ? String(nameOrID.dropFirst()) : nameOrID
        var found: [ChatChannel] = []
        for id in try await joinedRooms().sorted() {
            let channel = try await channel(for: id)
            let alias = state.withLock { $0.rooms[id]?.alias }.map(MatrixID.localpart)
            if !channel.isDirect, channel.name.caseInsensitiveCompare(name) == .orderedSame || alias == name {
                found.append(channel)
            }
        }
        return found
    }

    /// Refused when the room's power levels ask more for `m.room.message` than the bot has.
    public func postingRefusal(in channel: ChatChannel) async throws -> String? {
        // A room without power levels lets every member post.
        guard let levels = try await powerLevels(of: channel.id) else { return nil }
        let mine = levels.users?[configuration.userID] ?? levels.usersDefault ?? 0
        let needed = levels.events?["m.room.message"] ?? levels.eventsDefault ?? 0
        guard mine < needed else { return nil }
        return "its power levels ask \(needed) to send a message, and the bot has \(mine): a moderator of the room "
            + "raises the bot's level, or lowers the one of messages"
    }

    /// The person's display name, else their localpart; nil for a user the homeserver does not
    /// know.
    public func user(_ id: String) async throws -> ChatUser? { try await profile(id) }

    private func profile(_ id: String) async throws(ChatError) -> ChatUser? {
        guard id.hasPrefix("@") else { return nil }
        do throws(ChatError) {
            let profile: Profile = try await client.call(.GET, "/_matrix/client/v3/profile/\(MatrixID.segment(id))")
            let name = profile.displayname?.trimmingCharacters(in: .whitespaces) ?? ""
            return ChatUser(id: id, name: name.isEmpty ? MatrixID.localpart(id) : name)
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// `GET /rooms/{room}/event/{event}`: a message as the sync would have delivered it; nil for
    /// an event that is not one, or that the homeserver does not show the bot.
    public func message(_ id: String, in channel: ChatChannel) async throws -> ChatMessage? {
        guard let event = try await event(id, in: channel.id), let sender = event.sender, sender != me?.id else { return nil }
        let name = state.withLock { $0.rooms[channel.id]?.name(of: sender) } ?? MatrixID.localpart(sender)
        return ChatMessage(matrix: event, channel: channel, user: ChatUser(id: sender, name: name))
    }

    private func event(_ id: String, in room: String) async throws(ChatError) -> MatrixEvent? {
        do throws(ChatError) {
            return try await client.call(.GET, "/_matrix/client/v3/rooms/\(MatrixID.segment(room))/event/\(MatrixID.segment(id))")
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// Joins a room by id or alias.
    public func join(_ channel: ChatChannel) async throws {
        let _: JoinAnswer = try await client.call(.POST, "/_matrix/client/v3/join/\(MatrixID.segment(channel.id))",
                                                  body: [String: String]())
    }

    public func leave(_ channel: ChatChannel) async throws {
        var id = channel.id
        if id.hasPrefix("#") {
            guard let resolved = try await resolve(alias: id) else {
                throw ChatError(.notFound, "there is no Matrix room \(id)")
            }
            id = resolved
        }
        try await leaveRoom(id)
        _ = state.withLock { $0.rooms.removeValue(forKey: id) }
    }

    /// Leaves the room `id`, or declines its invite.
    func leaveRoom(_ id: String) async throws(ChatError) {
        let _: Empty = try await client.call(.POST, "/_matrix/client/v3/rooms/\(MatrixID.segment(id))/leave",
                                             body: [String: String]())
    }

    /// The room's state read from the homeserver: its name, alias and members.
    func fetchRoom(_ id: String) async throws(ChatError) -> MatrixRoom {
        do throws(ChatError) {
            let state: [Lenient<MatrixEvent>] = try await client.call(
                .GET, "/_matrix/client/v3/rooms/\(MatrixID.segment(id))/state")
            return MatrixRoom(state: state.compactMap(\.value))
        } catch where error.kind == .notFound {
            // Left or forgotten meanwhile: the next batch says so.
            return MatrixRoom()
        }
    }

    private func channel(for id: String) async throws(ChatError) -> ChatChannel {
        var room = state.withLock { $0.rooms[id] }
        if room == nil {
            let fetched = try await fetchRoom(id)
            // Unless the sync stored a newer state meanwhile.
            room = state.withLock { state in
                if let stored = state.rooms[id] { return stored }
                state.rooms[id] = fetched
                return fetched
            }
        }
        let (me, direct) = state.withLock { ($0.me?.id ?? configuration.userID, $0.direct) }
        return (room ?? MatrixRoom()).channel(id: id, me: me, direct: direct)
    }

    private func joinedRooms() async throws(ChatError) -> [String] {
        let answer: JoinedRooms = try await client.call(.GET, "/_matrix/client/v3/joined_rooms")
        return answer.rooms
    }

    private func powerLevels(of room: String) async throws(ChatError) -> PowerLevels? {
        do throws(ChatError) {
            return try await client.call(.GET, "/_matrix/client/v3/rooms/\(MatrixID.segment(room))/state/m.room.power_levels")
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// The room an alias names, or nil if the directory has no such alias.
    private func resolve(alias: String) async throws(ChatError) -> String? {
        do throws(ChatError) {
            let answer: Alias = try await client.call(.GET, "/_matrix/client/v3/directory/room/\(MatrixID.segment(alias))")
            return answer.roomID
        } catch where error.kind == .notFound {
            return nil
        }
    }
}

private struct JoinedRooms: Decodable {
    var rooms: [String]
    enum CodingKeys: String, CodingKey { case rooms = "joined_rooms" }
}

private struct Alias: Decodable {
    var roomID: String
    enum CodingKeys: String, CodingKey { case roomID = "room_id" }
}

/// `m.room.power_levels`, the fields that say who may send a message.
private struct PowerLevels: Decodable {
    var events: [String: Int]?
    var eventsDefault: Int?
    var users: [String: Int]?
    var usersDefault: Int?

    enum CodingKeys: String, CodingKey {
        case events, users
        case eventsDefault = "events_default"
        case usersDefault = "users_default"
    }
}

private struct Profile: Decodable {
    var displayname: String?
}

private struct Empty: Decodable {}
