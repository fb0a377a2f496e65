import Foundation

extension ChatMessage {
    /// The message an `m.room.message` event carries: text, with the targets of its HTML links
    /// that the text does not show, or a file (`m.file`, `m.image`, `m.video`, `m.audio`) with its
    /// caption as text; or an edit of a text (`m.replace`), as the message it edits with its new
    /// text (in whose thread it is, the bot finds out). Nil for what the bot does not read:
    /// notices (what bots send, the bot's own included), emotes, redacted events.
    init?(matrix event: MatrixEvent, channel: ChatChannel, user: ChatUser) {
        guard event.type == "m.room.message", let id = event.eventID, let body = event.content.body else { return nil }
        let relation = event.content.relatesTo
        let at = event.originServerTS.map { Date(timeIntervalSince1970: Double($0) / 1000) } ?? Date()
        if relation?.relType == "m.replace" {
            guard let original = relation?.eventID, let new = event.content.newContent, new.msgtype == "m.text",
                  let text = new.body
            else { return nil }
            self.init(id: original, channel: channel, user: user, text: text,
                      links: Self.hiddenLinks(html: new.format == MatrixMarkup.format ? new.formattedBody : nil, text: text),
                      edit: ChatEdit(), at: at)
            return
        }
        let thread = relation?.relType == "m.thread" ? relation?.eventID : nil
        // In a thread, a reply that is only a fallback for clients without threads answers nothing.
        let replyTo = thread != nil && relation?.isFallingBack == true ? nil : relation?.inReplyTo?.eventID
        switch event.content.msgtype {
        case "m.text":
            let text = replyTo == nil ? body : Self.withoutReplyFallback(body)
            let html = event.content.format == MatrixMarkup.format ? event.content.formattedBody : nil
            self.init(id: id, channel: channel, user: user, text: text, thread: thread, replyTo: replyTo,
                      links: Self.hiddenLinks(html: html, text: text), at: at)
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

    /// The targets of the HTML's links that `text` does not hold: what a client shows as a label
    /// ("the portal") and opens elsewhere. Mentions and room links (`https://matrix.to/#/...`) are
    /// not; a reply's quote of the message it answers (`<mx-reply>`) is not this message's.
    static func hiddenLinks(html: String?, text: String) -> [String] {
        guard let html else { return [] }
        var links: [String] = []
        for target in MatrixMarkup.linkTargets(MatrixMarkup.withoutReplyQuote(html))
        where !target.hasPrefix("https://matrix.to/") && !text.contains(target) && !links.contains(target) {
            links.append(target)
        }
        return links
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
