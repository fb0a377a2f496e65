import Foundation

/// A new incident as it arrives (the API, `automator incident create`, a mapper's result), checked
/// field by field: an error names the field and says what it takes.
///
/// ```json
/// {"title": "Phishing reported by jdoe", "type": "phishing", "severity": "high",
///  "labels": ["mail"], "fields": {"sender": "it-support@example.com"}, "raw": {...}}
/// ```
public struct IncidentDraft: Sendable, Hashable {
    public var title: String
    public var type: String
    public var severity: Incident.Severity
    public var owner: String?
    public var labels: [String] = []
    /// A JSON object, as sent.
    public var fields = "{}"
    public var details = ""
    /// Any JSON, as sent.
    public var raw: String?
    public var source: String?
    public var sourceRef: String?

    public static let fieldNames = ["title", "type", "severity", "owner", "labels", "fields", "details", "raw", "source",
                                    "source_ref"]
    static let example = #"{"title": "Phishing reported by jdoe", "type": "phishing", "severity": "high"}"#

    public init(title: String, type: String, severity: Incident.Severity) {
        self.title = title
        self.type = type
        self.severity = severity
    }

    /// Reads a JSON object.
    ///
    /// - Throws: `.invalid` naming the field for a missing or wrongly typed field, an unknown
    ///   one, or a body that is not a JSON object.
    public init(json: [UInt8]) throws(IncidentError) {
        let (object, members) = try Self.parse(json, allowing: [])
        try self.init(object: object, members: members)
    }

    /// Reads a mapper's result: the incident, and what the alert's tool says of its close when it
    /// closed it already (`closed_in_source`).
    ///
    /// - Throws: as `init(json:)`, and `.invalid` naming the member of `closed_in_source` at fault.
    static func mapped(_ json: [UInt8]) throws(IncidentError) -> (draft: IncidentDraft, closed: SourceClose?) {
        let (object, members) = try parse(json, allowing: [SourceClose.fieldName])
        return (try IncidentDraft(object: object, members: members), try SourceClose(object[SourceClose.fieldName]))
    }

    /// `json` as an object and its members' texts, refused as `init(json:)` refuses it; `extra`
    /// names the fields taken besides an incident's (an imported one's times).
    static func parse(_ json: [UInt8], allowing extra: [String]) throws(IncidentError)
        -> (object: [String: Any], members: [String: String])
    {
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed]) } catch {
            throw IncidentError(.invalid, "the incident is not valid JSON (\(JSONSerialization.reason(error))): send an "
                + "object such as \(Self.example)")
        }
        guard let object = parsed as? [String: Any] else {
            throw IncidentError(.invalid, "the incident must be a JSON object, such as \(Self.example)")
        }
        let names = Self.fieldNames + extra
        if let unknown = object.keys.sorted().first(where: { !names.contains($0) }) {
            throw .invalid(unknown, "unknown field: an incident takes " + names.joined(separator: ", "))
        }
        guard let members = RawJSON.members(of: json) else {
            throw IncidentError(.invalid, "send the incident as UTF-8: JSON in other encodings is not taken")
        }
        return (object, members)
    }

    /// The incident of a parsed object (`parse`), each field checked.
    init(object: [String: Any], members: [String: String]) throws(IncidentError) {
        func text(_ name: String, required: Bool = false, limit: Int = 1000) throws(IncidentError) -> String? {
            guard let value = object[name], !(value is NSNull) else {
                if required { throw .invalid(name, "required: a non-empty string, as in \(Self.example)") }
                return nil
            }
            guard let string = value as? String else { throw .invalid(name, "a string expected, got \(Self.kind(of: value))") }
            if required, string.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw .invalid(name, "must not be empty")
            }
            guard string.utf8.count <= limit else { throw .invalid(name, "longer than \(limit) bytes") }
            return string
        }
        title = try text("title", required: true)!
        type = try text("type", required: true, limit: 100)!
        guard let severityName = try text("severity", required: true, limit: 100) else { throw .invalid("severity", "") }
        guard let severity = Incident.Severity(named: severityName) else {
            throw .invalid("severity", "one of \(Incident.Severity.names) expected, got \(JSONText.string(severityName))")
        }
        self.severity = severity
        owner = try text("owner", limit: 200)
        details = try text("details", limit: 1 << 20) ?? ""
        source = try text("source", limit: 200)
        sourceRef = try text("source_ref", limit: 1000)
        if let labels = object["labels"], !(labels is NSNull) {
            guard let strings = labels as? [String] else { throw .invalid("labels", "an array of strings expected") }
            self.labels = strings
        }
        if let fields = object["fields"], !(fields is NSNull) {
            guard fields is [String: Any], let text = members["fields"] else {
                throw .invalid("fields", "a JSON object expected, got \(Self.kind(of: fields))")
            }
            self.fields = RawJSON.compact(text)
        }
        raw = object["raw"].flatMap { $0 is NSNull ? nil : members["raw"].map(RawJSON.compact) }
    }

    /// How a JSON value's type reads in an error.
    static func kind(of value: Any) -> String {
        switch value {
        case is String: "a string"
        case is NSNumber: "a number or boolean"
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        default: "null"
        }
    }

    /// The incident it becomes, numbered `id`, arrived at `now`.
    func incident(_ id: IncidentID, at now: Date) -> Incident {
        Incident(id: id, title: title, type: type, severity: severity, owner: owner, labels: labels, fields: fields,
                 details: details, raw: raw, source: source, sourceRef: sourceRef, createdAt: now)
    }
}
