/// What the bot posts to Slack is shown as written. Slack reads `<!channel>`, `<@U123>` and
/// `<https://evil.example|Reset your password>` in a message as a ping to everyone, a mention and
/// a link behind a label, and much of what the bot echoes is an attacker's text: an alert's title,
/// a file's name, a feed's reason.
enum SlackMarkup {
    /// `<` and `>` as Slack's `&lt;` and `&gt;`, so that none of the above is read. `&` stays: a
    /// person's message, which the bot may quote, comes from Slack with its `&amp;`, `&lt;` and
    /// `&gt;` already, and reads as it was typed; an `&lt;` from elsewhere shows as `<`, which
    /// starts nothing.
    static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") }) else { return text }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for character in text {
            switch character {
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
