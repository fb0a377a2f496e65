/// The indicators an incident mentions, as extraction normalises them (refanged, lower-case
/// hosts and hashes): what `IncidentQuery.indicator` finds an incident by. Kept in the store
/// beside the incident, so "which incidents mention 203.0.113.7?" is an index read, not a text
/// search of every incident (which the chat bot asked for every finding it answered).
public enum IncidentIndicators {
    /// What a new incident mentions: in its title, details, custom fields and raw payload.
    static func of(_ incident: Incident) -> Set<String> {
        values(in: [incident.title, incident.details, incident.fields, incident.raw ?? ""])
    }

    /// What a change adds: in the new title, details and fields. An incident stays found by an
    /// indicator it once mentioned.
    static func of(_ change: IncidentChange) -> Set<String> {
        values(in: [change.title, change.details, change.fieldsPatch].compactMap { $0 })
    }

    /// `value` as the index holds it: `hxxp://evil[.]example/x` as `http://evil.example/x`, an
    /// upper-case hash in lower case. A value that is no indicator stays as it is (and finds
    /// nothing).
    public static func normalized(_ value: String) -> String {
        let bytes = Array(value.utf8)
        return Extractor.extract(bytes).first { $0.start == 0 && $0.end == bytes.count }?.value ?? value
    }

    static func values(in texts: [String]) -> Set<String> {
        var found = Set<String>()
        for text in texts where !text.isEmpty {
            for indicator in Extractor.extract(Array(text.utf8)) { found.insert(indicator.value) }
        }
        return found
    }
}
