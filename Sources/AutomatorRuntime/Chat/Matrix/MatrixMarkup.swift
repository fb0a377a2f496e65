import Foundation

/// The bot's texts are written in Slack's markup (`*INC-1*` in bold, `` `evil[.]com` `` as code,
/// line breaks), which Matrix clients show as typed: the same text as the HTML of a message's
/// `formatted_body`, everything else escaped.
enum MatrixMarkup {
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

    /// HTML-escaped, line breaks as `<br>`.
    private static func escaped(_ text: Substring) -> String {
        ReportHTML.escape(String(text)).replacingOccurrences(of: "\n", with: "<br>")
    }
}
