import Foundation

/// An integration's secrets, by the placeholders its script holds instead of them:
/// `{{secret:NAME:TAG}}`, TAG random for the process. `http` and `smtp` fill in only placeholders
/// given out here. Text from anywhere else that looks like one (an incident title or an action's
/// parameter reading `{{secret:api_key}}`) is sent as written: filling those in sent the key to
/// whoever wrote them, in the Jira issue, the SMS or the webhook the action made.
public struct IntegrationSecrets: Sendable {
    /// Random for the process: a placeholder cannot be written without having been given out.
    private static let tag: String = {
        var generator = SystemRandomNumberGenerator()
        return (0..<8).map { _ in
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0xf, radix: 16)
        }.joined()
    }()

    /// Placeholder to value.
    private var values: [String: String] = [:]

    /// The fewest characters of a secret: a shorter one is refused when its integration loads.
    /// Even blanked only as a whole word (`SecretConcealer.wholeWordsBelow`), a secret of a few
    /// characters is one in ordinary answers (`1`, `ok`, `200` in JSON), and no service gives a key
    /// that short; a 6-character password is real.
    static let shortest = 6

    public init() {}

    /// Keeps `value` as the secret `name`; returns the placeholder the script gets instead.
    mutating func add(_ name: String, value: String) -> String {
        let placeholder = "{{secret:\(name):\(Self.tag)}}"
        values[placeholder] = value
        return placeholder
    }

    var isEmpty: Bool { values.isEmpty }

    /// What to blank out of answers.
    var secrets: Dictionary<String, String>.Values { values.values }

    /// `text` with the placeholders given out replaced by their secrets.
    func reveal(_ text: String) -> String {
        guard !values.isEmpty, text.contains("{{secret:") else { return text }
        return values.reduce(text) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
    }

    /// A body: bytes that are not UTF-8 are searched as bytes, so that nothing else in them changes.
    func reveal(_ bytes: [UInt8]) -> [UInt8] {
        guard !values.isEmpty else { return bytes }
        if let text = String(validating: bytes, as: UTF8.self) { return Array(reveal(text).utf8) }
        var bytes = bytes
        for (placeholder, value) in values {
            let (placeholder, value) = (Array(placeholder.utf8), Array(value.utf8))
            var searched = bytes.startIndex
            while let found = bytes[searched...].firstRange(of: placeholder) {
                bytes.replaceSubrange(found, with: value)
                searched = found.lowerBound + value.count
            }
        }
        return bytes
    }
}
