import Foundation

/// The bot's texts are written in Slack's markup (`*INC-1*` in bold, `` `evil[.]com` `` as code,
/// line breaks), which Matrix clients show as typed: the same text as the HTML of a message's
/// `formatted_body`, everything else escaped.
enum MatrixMarkup {
    /// The `format` of a message whose `formatted_body` is HTML.
    static let format = "org.matrix.custom.html"

    /// The targets of the HTML's links (`<a href="...">`), in order, entities decoded.
    static func linkTargets(_ html: String) -> [String] {
        html.matches(of: /<a\s[^>]*?href\s*=\s*(?:"([^"]*)"|'([^']*)')/.ignoresCase()).compactMap { match in
            (match.output.1 ?? match.output.2).map { unescaped(String($0)) }
        }
    }

    /// The HTML without the quote of the message a reply answers (`<mx-reply>...</mx-reply>`).
    static func withoutReplyQuote(_ html: String) -> String {
        html.replacing(/<mx-reply>.*?<\/mx-reply>/.ignoresCase().dotMatchesNewlines(), with: "")
    }

    /// An attribute's value as written, with XML's five entities decoded.
    private static func unescaped(_ value: String) -> String {
        guard value.contains("&") else { return value }
        return value.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// `*bold*` as `<strong>`, `` `code` `` as `<code>`, each closed on its own line; a `*` or a
    /// `` ` `` left open stays as written.
    static func html(_ text: String) -> String {
        var html = ""
        var rest = Substring(text)
        while let mark = rest.firstIndex(where: { $0 == "*" || $0 == "`" }) {
            html += escaped(rest[..<mark])
            let inside = rest.index(after: mark)
            if let close = closing(rest[mark], in: rest[inside...]) {
                let tag = rest[mark] == "`" ? "code" : "strong"
                html += "<\(tag)>" + escaped(rest[inside..<close]) + "</\(tag)>"
                rest = rest[rest.index(after: close)...]
            } else {
                html += escaped(rest[mark...mark])
                rest = rest[inside...]
            }
        }
        return html + escaped(rest)
    }

    /// Where `mark` closes in `text`, on the same line, around something (bold text neither
    /// starts nor ends with a space, as in Slack: `2 * 3 * 4` stays as written).
    private static func closing(_ mark: Character, in text: Substring) -> Substring.Index? {
        guard let close = text.firstIndex(where: { $0 == mark || $0 == "\n" }), text[close] == mark,
              close > text.startIndex
        else { return nil }
        let spaced = text[text.startIndex].isWhitespace || text[text.index(before: close)].isWhitespace
        return mark == "*" && spaced ? nil : close
    }

    /// A mention of `user` (`@lead:example.org`) in HTML: a link to the user, which clients show
    /// as the user's pill (Client-Server API, "User and room mentions").
    static func userLink(_ user: String) -> String {
        let id = ReportHTML.escape(user)
        return "<a href=\"https://matrix.to/#/\(id)\">\(id)</a>"
    }

    /// HTML-escaped, line breaks as `<br>`.
    private static func escaped(_ text: Substring) -> String {
        ReportHTML.escape(String(text)).replacingOccurrences(of: "\n", with: "<br>")
    }
}
