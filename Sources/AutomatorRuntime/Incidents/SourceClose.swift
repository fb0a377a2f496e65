import Foundation

/// What a mapper says of an alert its tool has closed already (`closed_in_source` in `map`'s
/// result): the tool's status, and how it was classified, by whom and with what comment where the
/// tool says so.
///
/// ```lua
/// closed_in_source = { status = "Closed", classification = "FalsePositive", by = "alice@contoso.com" }
/// ```
///
/// Such an alert whose reference's latest incident here is closed is journaled on that incident
/// and opens nothing (`IncidentService.create`): it is most often the echo of our own close,
/// written back to the tool.
struct SourceClose: Sendable, Hashable {
    static let fieldName = "closed_in_source"
    static let memberNames = ["status", "classification", "by", "comment"]

    var status: String
    var classification: String?
    var by: String?
    var comment: String?

    /// The `closed_in_source` member of a mapper's result, nil when absent (or null).
    ///
    /// - Throws: `.invalid` naming the member that is missing, unknown or not a string.
    init?(_ value: Any?) throws(IncidentError) {
        guard let value, !(value is NSNull) else { return nil }
        let field = Self.fieldName
        guard let object = value as? [String: Any] else {
            throw .invalid(field, "an object expected, such as { status = \"Closed\" }, got \(IncidentDraft.kind(of: value))")
        }
        if let unknown = object.keys.sorted().first(where: { !Self.memberNames.contains($0) }) {
            throw .invalid("\(field).\(unknown)", "unknown member: it takes " + Self.memberNames.joined(separator: ", "))
        }
        func text(_ name: String) throws(IncidentError) -> String? {
            guard let member = object[name], !(member is NSNull) else { return nil }
            guard let string = member as? String else {
                throw .invalid("\(field).\(name)", "a string expected, got \(IncidentDraft.kind(of: member))")
            }
            guard string.utf8.count <= 1000 else { throw .invalid("\(field).\(name)", "longer than 1000 bytes") }
            return string.isEmpty ? nil : string
        }
        guard let status = try text("status") else {
            throw .invalid("\(field).status", "required: the tool's status of the closed alert, such as \"Closed\"")
        }
        self.status = status
        classification = try text("classification")
        by = try text("by")
        comment = try text("comment")
    }

    /// What the journal says of it: `closed at sentinel (status Closed, classification FalsePositive,
    /// by alice@contoso.com, comment "Closed in Automator as INC-1: ...")`.
    func described(at source: String) -> String {
        let said = [("status", status), ("classification", classification), ("by", by),
                    ("comment", comment.map(JSONText.string))]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        return "closed at \(source) (" + said.joined(separator: ", ") + ")"
    }
}
