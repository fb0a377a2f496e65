import Foundation

extension ChatMessage {
    /// The message an `m.room.message` event carries: text, or a file (`m.file`, `m.image`,
    /// `m.video`, `m.audio`) with its caption as text. Nil for what the bot does not read:
    /// notices (what bots send, the bot's own included), emotes, edits (`m.replace`: a command
    /// is not run again because its text was corrected), redacted events.
    init?(matrix event: MatrixEvent, channel: ChatChannel, user: ChatUser) {
        guard event.type == "m.room.message", let id = event.eventID, let body = event.content.body else { return nil }
        let relation = event.content.relatesTo
        guard relation?.relType != "m.replace" else { return nil }
        let thread = relation?.relType == "m.thread" ? relation?.eventID : nil
        // In a thread, a reply that is only a fallback for clients without threads answers nothing.
        let replyTo = thread != nil && relation?.isFallingBack == true ? nil : relation?.inReplyTo?.eventID
        let at = event.originServerTS.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date()
        switch event.content.msgtype {
        case "m.text":
            let text = replyTo == nil ? body : Self.withoutReplyFallback(body)
            self.init(id: id, channel: channel, user: user, text: text, thread: thread, replyTo: replyTo, at: at)
        case "m.file", "m.image", "m.video", "m.audio":
            guard let url = event.content.url, MatrixID.media(url) != nil else { return nil }
            // Since Matrix 1.10 a `filename` makes `body` a caption; before, `body` is the name.
            let name = event.content.filename ?? body
            let file = ChatFile(id: url, name: name, size: event.content.info?.size,
                                mimeType: event.content.info?.mimetype, url: url)
            self.init(id: id, channel: channel, user: user, text: name == body ? "" : body, thread: thread,
                      replyTo: replyTo, files: [file], at: at)
        default:
            return nil
        }
    }

    /// A reply's text without the quote of the message it answers that older clients put first
    /// (`> <@alice:example.org> the question`, then an empty line).
    static func withoutReplyFallback(_ body: String) -> String {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first?.hasPrefix(">") == true else { return body }
        var rest = lines.drop { $0.hasPrefix(">") }
        if rest.first?.isEmpty == true { rest = rest.dropFirst() }
        return rest.joined(separator: "\n")
    }
}
