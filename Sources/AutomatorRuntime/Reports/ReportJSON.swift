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

    /// The report in `json`, as `encode` writes it (a server's answer).
    public static func decode(_ json: some StringProtocol) throws(DecodingFailure) -> Report {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        do { return try decoder.decode(Report.self, from: Data(json.utf8)) } catch {
            throw DecodingFailure(description: "not a report: \(error)")
        }
    }

    public struct DecodingFailure: Error, CustomStringConvertible {
        public let description: String
    }
}

extension ReportJSON {
    /// `{"audit": [...]}`: journal entries with their incident, and what happened on no incident
    /// (`incident` and `sequence` null), as `automator audit --json` prints them and
    /// `GET /api/v1/audit` answers.
    /// `more`: the window holds entries past the limit.
    public static func audit(_ entries: [AuditEntry], more: Bool) -> String {
        #"{"more":\#(more),"audit":"# + JSONText.array(entries.map { entry in
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
