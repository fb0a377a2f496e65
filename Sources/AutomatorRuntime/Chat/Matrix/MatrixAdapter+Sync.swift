import Foundation
import Logging
import NIOHTTP1
import Synchronization

extension MatrixAdapter {
    /// Reads the state of the batch's rooms the adapter has not seen since it started, before
    /// anything is delivered: a failure then leaves the whole batch to be fetched again. At the
    /// first start the batch holds every room's state.
    func loadRooms(of batch: MatrixSync, initial: Bool) async throws(ChatError) {
        let known = state.withLock { Set($0.rooms.keys) }
        var loaded: [String: MatrixRoom] = [:]
        for (id, room) in batch.joined where !known.contains(id) {
            loaded[id] = initial ? MatrixRoom(state: room.state) : try await fetchRoom(id)
        }
        state.withLock { state in
            for id in batch.left { state.rooms[id] = nil }
            state.rooms.merge(loaded) { current, _ in current }
            if let direct = batch.direct { state.direct = Set(direct.values.joined()) }
        }
    }

    /// Delivers the batch's messages, room by room in the order they were sent (a gap read back
    /// first), with each room's state as it was when they were sent. Nothing at the first start;
    /// nothing the bot sent; nothing from before the bot joined. Then says where messages of a gap
    /// too long were not checked.
    func deliver(_ batch: MatrixSync, initial: Bool, to inbox: any ChatInbox) async {
        guard let me = me?.id else { return }
        for (id, joined) in batch.joined {
            let messages = state.withLock { state -> [ChatMessage] in
                var room = state.rooms[id] ?? MatrixRoom()
                // The state before the timeline; for a room just read whole, already in it.
                for event in joined.state { room.apply(event) }
                var messages: [ChatMessage] = []
                for event in joined.gap + joined.timeline {
                    room.apply(event)
                    if event.type == "m.room.member", event.stateKey == me, event.content.membership == "join",
                       event.previousMembership != "join"
                    {
                        messages.removeAll()
                    } else if event.type == "m.room.encrypted", state.encrypted.insert(id).inserted {
                        logger.warning("""
                            Matrix room \(id) is end-to-end encrypted: the bot cannot read it; talk to it in a room \
                            without encryption
                            """)
                    }
                    guard !initial, let sender = event.sender, sender != me else { continue }
                    let user = ChatUser(id: sender, name: room.name(of: sender))
                    let channel = room.channel(id: id, me: me, direct: state.direct)
                    if let message = ChatMessage(matrix: event, channel: channel, user: user) { messages.append(message) }
                }
                state.rooms[id] = room
                return messages
            }
            for message in messages { await inbox.receive(message, from: self) }
            if joined.unchecked > 0 { await tellUnchecked(joined.unchecked, in: id) }
        }
    }

    /// Joins the rooms the bot is invited to by someone `invitesFrom` allows, and declines the
    /// others; their messages arrive with the next batches. Before anything is delivered too:
    /// when the homeserver cannot be reached, the whole batch is fetched again (joining a room
    /// twice is harmless). An invite to a room that is gone is skipped.
    func acceptInvites(_ rooms: [String: [MatrixEvent]]) async throws(ChatError) {
        for (id, state) in rooms.sorted(by: { $0.key < $1.key }) {
            let inviter = state.last { $0.type == "m.room.member" && $0.stateKey == configuration.userID }?.sender
            do throws(ChatError) {
                guard let inviter, configuration.mayInvite(inviter) else {
                    try await leaveRoom(id)
                    logger.warning("""
                        Matrix: declined the invite to \(id) from \(inviter ?? "someone unknown"): add them or their \
                        server to chat.matrix.invites_from to let them invite the bot
                        """)
                    continue
                }
                let _: JoinAnswer = try await client.call(.POST, "/_matrix/client/v3/join/\(MatrixID.segment(id))",
                                                          body: [String: String]())
                logger.info("Matrix: joined \(id), where \(inviter) invited the bot")
            } catch where error.kind == .notFound {
                logger.warning("Matrix: cannot answer the invite to \(id): \(error)")
            }
        }
    }
}

struct JoinAnswer: Decodable {
    var roomID: String
    enum CodingKeys: String, CodingKey { case roomID = "room_id" }
}
