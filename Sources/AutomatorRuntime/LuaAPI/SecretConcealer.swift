import Foundation

/// Blanks an integration's secrets out of what comes back from a server (bodies, headers,
/// errors), in the forms an echo takes: as sent; in another case (`BEARER S3CR3T`); with any of
/// its characters percent-encoded, in either case of hexadecimal (a URL or a form echoed back,
/// each encoder leaving other characters alone); with `/` escaped as JSON may write it.
/// What an echo leaves of a secret beyond that (a few of its first characters as a "hint", its
/// base64 inside a Basic credential) is not found.
///
/// A secret shorter than `wholeWordsBelow` (a 6-character SMTP password) is blanked only where it
/// stands as a whole word, with no letter or digit on either side: blanked everywhere, its
/// characters inside ordinary text (a word, an address, a number) would mangle the answer, as a
/// `1` turned every number into `[secret]`.
struct SecretConcealer: Sendable {
    static let blank = "[secret]"
    static let wholeWordsBelow = 8

    /// One pattern a secret, longest first, so a secret inside another is not blanked first.
    private let patterns: [NSRegularExpression]
    private let exact: [(bytes: [UInt8], wholeWord: Bool)]

    init(_ secrets: some Collection<String>) {
        let values = Set(secrets.filter { !$0.isEmpty }).sorted { $0.count > $1.count }
        exact = values.map { (Array($0.utf8), $0.count < Self.wholeWordsBelow) }
        patterns = values.compactMap { secret in
            let pattern = secret.count < Self.wholeWordsBelow
                ? #"(?<![\p{L}\p{N}])"# + Self.pattern(of: secret) + #"(?![\p{L}\p{N}])"# : Self.pattern(of: secret)
            return try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
        }
    }

    var isEmpty: Bool { patterns.isEmpty }

    func conceal(_ text: String) -> String {
        patterns.reduce(text) { text, pattern in
            pattern.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                             withTemplate: NSRegularExpression.escapedTemplate(for: Self.blank))
        }
    }

    /// A body: text is concealed in every form above; bytes that are not UTF-8 (a file) only where
    /// a secret appears as sent, so that nothing else in them changes.
    func conceal(_ body: [UInt8]) -> [UInt8] {
        guard !isEmpty else { return body }
        if let text = String(validating: body, as: UTF8.self) { return Array(conceal(text).utf8) }
        var bytes = body
        for (secret, wholeWord) in exact {
            var searched = bytes.startIndex
            while let found = bytes[searched...].firstRange(of: secret) {
                let inWord = { (index: Int) in bytes.indices.contains(index) && Self.isWordByte(bytes[index]) }
                if wholeWord, inWord(found.lowerBound - 1) || inWord(found.upperBound) {
                    searched = found.lowerBound + 1
                    continue
                }
                bytes.replaceSubrange(found, with: Self.blank.utf8)
                searched = found.lowerBound + Self.blank.utf8.count
            }
        }
        return bytes
    }

    /// An ASCII letter or digit, or any byte of a character beyond ASCII: in bytes that are not
    /// UTF-8, what counts as a word's is a guess, and keeping a byte is the safe side.
    private static func isWordByte(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (0x30...0x39).contains(byte) || (0x61...0x7a).contains(byte | 0x20)
    }

    /// Each character as itself (in any case, by the option) or as its UTF-8 bytes percent-encoded,
    /// a space also as `+`, a `/` also as `\/`.
    private static func pattern(of secret: String) -> String {
        secret.map { character in
            var forms = [NSRegularExpression.escapedPattern(for: String(character))]
            forms.append(String(character).utf8.map { $0 < 16 ? "%0" + String($0, radix: 16) : "%" + String($0, radix: 16) }.joined())
            if character == " " { forms.append(#"\+"#) }
            if character == "/" { forms.append(#"\\/"#) }
            return "(?:" + forms.joined(separator: "|") + ")"
        }.joined()
    }
}
