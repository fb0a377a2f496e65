import Foundation
import Logging
import NIOHTTP1

extension MatrixAdapter {
    /// Reads back what a limited timeline left out (more events than the sync filter's limit since
    /// the previous batch: a war room while the bot was stopped), so that every message is checked
    /// and journaled, in order. Before anything is delivered, like the rooms' state: a failure
    /// fetches the whole batch again. A room's newest `longestGap` events are kept; older messages
    /// are counted, to be told in the room rather than pass silently for clean.
    func fillGaps(in batch: inout MatrixSync, since: String) async throws(ChatError) {
        for (id, room) in batch.joined where room.limited {
            guard var next = room.previousBatch else { continue }
            var events: [MatrixEvent] = []
            var unchecked = 0
            while unchecked < Self.longestCount {
                let keeping = events.count < longestGap
                let page: MessagesPage = try await client.call(
                    .GET, "/_matrix/client/v3/rooms/\(MatrixID.segment(id))/messages",
                    query: [("dir", "b"), ("from", next), ("to", since), ("filter", MatrixSync.roomEventFilter),
                            ("limit", String(keeping ? min(100, longestGap - events.count) : 1000))])
                if keeping {
                    events += page.chunk
                } else {
                    unchecked += page.chunk.count { $0.type == "m.room.message" && $0.sender != configuration.userID }
                }
                guard let end = page.end, !page.chunk.isEmpty else { break }
                next = end
            }
            batch.joined[id]?.gap = events.reversed()
            batch.joined[id]?.unchecked = unchecked
        }
    }

    /// Past this many messages not checked, a gap stops being counted: the room is told "over".
    static let longestCount = 10_000

    /// Says in a room, and in the log, that messages sent while the bot was away were not checked.
    func tellUnchecked(_ count: Int, in room: String) async {
        let number = count >= Self.longestCount ? "More than \(count)" : "\(count)"
        let text = "⚠️ \(number) messages sent here while I was away were not checked."
        logger.warning("""
            Matrix room \(room): \(number) messages sent while the bot was away were not checked (it reads back \
            the last \(longestGap) events)
            """)
        do { _ = try await post(ChatPost(channel: room, text: text)) } catch {
            logger.error("Matrix room \(room): cannot say that messages were not checked: \(error)")
        }
    }
}

/// One answer of `GET /rooms/{room}/messages`: events newest first (going back), and where the
/// next page starts (none at the end).
private struct MessagesPage: Decodable {
    var chunk: [MatrixEvent]
    var end: String?

    enum CodingKeys: String, CodingKey { case chunk, end }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        chunk = try container.decodeIfPresent([Lenient<MatrixEvent>].self, forKey: .chunk)?.compactMap(\.value) ?? []
        end = try container.decodeIfPresent(String.self, forKey: .end)
    }
}
