import Foundation
import NIOCore
import NIOHTTP1

extension MatrixAdapter {
    /// Sends `m.notice`, the message type of bots (which other bots do not answer, as this one
    /// does not), with the Slack-style markup as HTML too; in a thread, as a threaded reply to its
    /// first message. A question lists its choices, numbered, and asks for the answer as a reply
    /// in its thread. The post's `mentions` (user ids) come first, as links to them, and are the
    /// only people `m.mentions` names; such a post is `m.text`, since the homeserver's first rules
    /// (`.m.rule.suppress_notices`) keep a notice from notifying anyone, mentioned or not.
    public func post(_ post: ChatPost) async throws -> ChatMessageRef {
        var text = post.text
        if let question = post.question {
            let choices = question.choices.enumerated().map { "\($0.offset + 1). \($0.element)" }
            text += "\n\n" + choices.joined(separator: "\n") + "\n\nReply in this thread with the number or the name of "
                + "your choice."
        }
        let named = post.mentions.map { $0 + " " }.joined()
        let linked = post.mentions.map { MatrixMarkup.userLink($0) + " " }.joined()
        var content = MatrixContent(msgtype: post.mentions.isEmpty ? "m.notice" : "m.text", body: named + text,
                                    format: MatrixMarkup.format, formattedBody: linked + MatrixMarkup.html(text),
                                    mentions: post.mentions.isEmpty ? .nobody : .init(userIDs: post.mentions))
        if let thread = post.thread {
            // The reply fallback is for clients that do not show threads.
            content.relatesTo = .init(relType: "m.thread", eventID: thread, isFallingBack: true,
                                      inReplyTo: .init(eventID: thread))
        }
        return ChatMessageRef(channel: post.channel, id: try await send("m.room.message", content, to: post.channel))
    }

    /// Sends an `m.reaction`: `emoji` is the reaction's key, the emoji itself (`👀`).
    /// Matrix reacts with the emoji itself: the names the shipped commands use (Slack's) are
    /// turned into theirs; anything else is sent as given.
    public func react(to message: ChatMessageRef, with emoji: String) async throws {
        let key = ChatEmoji.character(emoji)
        let relation = MatrixContent.Relation(relType: "m.annotation", eventID: message.id, key: key)
        // A homeserver refuses a second reaction with the same key, which the bot makes when a
        // message is checked again: an edit that adds a finding, a check repeated after a crash.
        try await client.call(.PUT, Self.sendPath("m.reaction", to: message.channel),
                              body: MatrixContent(relatesTo: relation), harmless: ["M_DUPLICATE_ANNOTATION"])
    }

    /// Uploads `data` to the media repository and sends it as `m.file`, `comment` as its caption.
    public func upload(to channel: String, name: String, data: [UInt8], comment: String?) async throws {
        let answer: UploadAnswer = try await client.call(
            .POST, "/_matrix/media/v3/upload", query: [("filename", name)], raw: data,
            contentType: "application/octet-stream", timeout: .minutes(5))
        // A file is not a notice, which notifies nobody: only its mentions keep it from pinging.
        let content = MatrixContent(msgtype: "m.file", body: comment ?? name, filename: name, url: answer.contentURI,
                                    info: .init(size: data.count, mimetype: "application/octet-stream"),
                                    mentions: .nobody)
        _ = try await send("m.room.message", content, to: channel)
    }

    /// Sends an event to a room and returns its id. The transaction id makes a request the
    /// homeserver already took (a retry after a rate limit) not send it twice.
    private func send(_ type: String, _ content: MatrixContent, to room: String) async throws(ChatError) -> String {
        let answer: SendAnswer = try await client.call(.PUT, Self.sendPath(type, to: room), body: content)
        return answer.eventID
    }

    /// Where an event of `type` is sent to `room`, with a transaction id of its own.
    private static func sendPath(_ type: String, to room: String) -> String {
        "/_matrix/client/v3/rooms/\(MatrixID.segment(room))/send/\(type)/\(UUID().uuidString)"
    }
}

private struct SendAnswer: Decodable {
    var eventID: String
    enum CodingKeys: String, CodingKey { case eventID = "event_id" }
}

private struct UploadAnswer: Decodable {
    var contentURI: String
    enum CodingKeys: String, CodingKey { case contentURI = "content_uri" }
}
