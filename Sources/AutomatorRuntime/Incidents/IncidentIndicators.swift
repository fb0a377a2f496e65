import Foundation

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
    public static func normalized(_ value: String) -> String { NormalForms.indicator(value)?.value ?? value }

    /// The extracted values, and the host of each URL and e-mail address even where extraction
    /// does not take it for a domain (`examp1e-hr.test`: no public suffix), since playbooks look
    /// incidents up by a sender's domain.
    static func values(in texts: [String]) -> Set<String> {
        var found = Set<String>()
        for text in texts where !text.isEmpty {
            for indicator in Extractor.extract(Array(text.utf8)) {
                found.insert(indicator.value)
                if let host = host(of: indicator) { found.insert(host) }
            }
        }
        return found
    }

    /// `evil.example` of `https://user@evil.example:8443/x` and of `a@evil.example`.
    private static func host(of indicator: ExtractedIndicator) -> String? {
        let value = Substring(indicator.value)
        switch indicator.type {
        case .email:
            return value.split(separator: "@").last.map(String.init)
        case .url:
            guard let scheme = value.range(of: "://") else { return nil }
            var authority = value[scheme.upperBound...].prefix { !"/?#".contains($0) }
            if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
            // A port, but not the colons of an IPv6 address in brackets.
            if !authority.hasPrefix("["), let colon = authority.firstIndex(of: ":") { authority = authority[..<colon] }
            return authority.isEmpty ? nil : String(authority)
        default:
            return nil
        }
    }
}
