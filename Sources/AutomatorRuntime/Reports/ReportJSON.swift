import Foundation

/// A report as JSON: what `GET /api/v1/report` answers and `automator report --format json`
/// writes. Keys in snake_case, times in ISO 8601 (UTC), durations in seconds.
public enum ReportJSON {
    public static func encode(_ report: Report) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // A report holds strings, numbers and dates only: encoding it cannot fail.
        return String(decoding: try! encoder.encode(report), as: UTF8.self)
    }

    /// The report in `json`, as `encode` writes it (a server's answer). A section an older server
    /// does not send is `absent` in the report, not a failure.
    ///
    /// - Throws: `DecodingFailure` naming what is missing or wrong, by its JSON key.
    public static func decode(_ json: some StringProtocol) throws(DecodingFailure) -> Report {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(Report.self, from: Data(json.utf8)) } catch let error as DecodingError {
            throw DecodingFailure(error)
        } catch {
            throw DecodingFailure(description: "not a report: \(error)")
        }
    }

    public struct DecodingFailure: Error, CustomStringConvertible {
        public let description: String

        init(description: String) { self.description = description }

        /// `no generated_at`, `days.0.opened is not a number`: the key as the JSON spells it,
        /// rather than the decoder's dump of its coding path.
        init(_ error: DecodingError) {
            func key(_ path: [any CodingKey]) -> String {
                path.map { $0.intValue.map(String.init) ?? Self.snakeCase($0.stringValue) }.joined(separator: ".")
            }
            switch error {
            case .keyNotFound(let missing, let context):
                description = "not a report: no \(key(context.codingPath + [missing]))"
            case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
                description = "not a report: \(key(context.codingPath)) is not \(Self.kind(type))"
            case .dataCorrupted(let context) where context.codingPath.isEmpty:
                description = "not a report: not JSON"
            case .dataCorrupted(let context):
                description = "not a report: \(key(context.codingPath)): \(context.debugDescription)"
            @unknown default:
                description = "not a report: \(error)"
            }
        }

        private static func snakeCase(_ key: String) -> String {
            key.reduce(into: "") { out, character in
                out += character.isUppercase ? "_" + character.lowercased() : String(character)
            }
        }

        private static func kind(_ type: Any.Type) -> String {
            switch type {
            case is Int.Type, is Double.Type: "a number"
            case is String.Type, is Date.Type: "a string"
            case is Bool.Type: "true or false"
            default: "what a report holds there"
            }
        }
    }
}

extension ReportJSON {
    /// `{"audit": [...]}`: journal entries with their incident, and what happened on no incident
    /// (`incident` and `sequence` null), as `automator audit --json` prints them and
    /// `GET /api/v1/audit` answers.
    /// `more`: the window holds entries past the limit, from `next` (`AuditQuery.after`).
    public static func audit(_ entries: [AuditEntry], next: AuditCursor?) -> String {
        #"{"more":\#(next != nil),"next":\#(next.map { JSONText.string($0.description) } ?? "null"),"audit":"#
            + JSONText.array(entries.map { entry in
            var object = JSONText.Object()
            object["sequence"] = entry.sequence.map { "\($0)" }
            object["at"] = JSONText.time(entry.at)
            object["actor"] = JSONText.string(entry.actor)
            object["incident"] = entry.incident.map { JSONText.string($0.description) }
            object["kind"] = JSONText.string(entry.kind.rawValue)
            object["text"] = JSONText.string(entry.text)
            return object.text
        }) + "}"
    }
}
