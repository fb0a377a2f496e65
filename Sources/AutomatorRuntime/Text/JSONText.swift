public import Foundation

/// JSON written as text, for what goes out byte for byte: values the store keeps as JSON text
/// (a run's arguments, an incident's custom fields) are spliced in as they are, so `1.0` stays
/// `1.0`, which `JSONSerialization` would make `1`.
///
/// ```swift
/// var object = JSONText.Object()
/// object["id"] = JSONText.string("INC-42")
/// object["fields"] = incident.fields      // already JSON
/// let text = object.text                   // {"id":"INC-42","fields":{...}}
/// ```
public enum JSONText {
    /// An object whose members are kept in the order they are set.
    public struct Object {
        private var members: [(String, String)] = []

        public init() {}

        /// Sets a member to `json`, a JSON value's text; nil writes `null`.
        public subscript(key: String) -> String? {
            get { members.first { $0.0 == key }?.1 }
            set { members.append((key, newValue ?? "null")) }
        }

        public var text: String { "{" + members.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}" }

        /// The text without the members that are `null`: for scripts, where an absent member is
        /// nil and `null` would be `json.null`, a true value.
        public var textWithoutNulls: String {
            "{" + members.filter { $0.1 != "null" }.map { string($0.0) + ":" + $0.1 }.joined(separator: ",") + "}"
        }
    }

    /// `values` as a JSON array.
    public static func array(_ values: [String]) -> String { "[" + values.joined(separator: ",") + "]" }

    /// `text` as a JSON string.
    public static func string(_ text: String) -> String {
        // Most text needs no escape: copied whole, where a scalar at a time showed in the action
        // path's profile. 0xE2 leads U+2028 and U+2029 (and other punctuation, which the loop keeps).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F || $0 == 0xE2 }) {
            return "\"" + text + "\""
        }
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case "\u{0}"..."\u{1F}", "\u{7F}", "\u{2028}", "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                quoted += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    /// A time as ISO 8601 in UTC, to the millisecond: `"2026-11-29T05:28:29.120Z"`.
    public static func time(_ date: Date) -> String {
        string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    /// Seconds since the epoch, as scripts read times (`time.now()`): `1764393709.12`.
    public static func seconds(_ date: Date) -> String {
        let milliseconds = date.millisecondsSince1970
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)" : "\(Double(milliseconds) / 1000)"
    }
}
