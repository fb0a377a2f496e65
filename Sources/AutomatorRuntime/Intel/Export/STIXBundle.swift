public import Foundation

/// The indicators looked up, with their verdicts, as a STIX 2.1 bundle: an `identity` for
/// Automator and one `indicator` per indicator, its pattern an equality on its value. CVEs are
/// left out (they are vulnerabilities, not indicators, in STIX).
///
/// An indicator's id is the UUIDv4 it was given when first seen, so exporting again gives the
/// same ids, and a platform that imports both updates its objects instead of duplicating them.
public enum STIXBundle {
    public static func make(_ indicators: [SeenIndicator], at now: Date = Date()) -> String {
        let identity = "identity--" + automatorIdentity
        // Fixed, as its id is: the identity is the same object in every export.
        let created = JSONText.time(Date(timeIntervalSince1970: 1_764_374_400))
        var objects: [String] = []
        var source = JSONText.Object()
        source["type"] = JSONText.string("identity")
        source["spec_version"] = JSONText.string("2.1")
        source["id"] = JSONText.string(identity)
        source["created"] = created
        source["modified"] = created
        source["name"] = JSONText.string("Automator")
        source["identity_class"] = JSONText.string("system")
        objects.append(source.text)
        for seen in indicators {
            guard let pattern = pattern(seen.type, seen.value) else { continue }
            var object = JSONText.Object()
            object["type"] = JSONText.string("indicator")
            object["spec_version"] = JSONText.string("2.1")
            object["id"] = JSONText.string("indicator--" + seen.stixID)
            object["created_by_ref"] = JSONText.string(identity)
            object["created"] = JSONText.time(seen.firstSeen)
            object["modified"] = JSONText.time(max(seen.lastSeen, seen.firstSeen))
            object["name"] = JSONText.string(seen.value)
            object["description"] = JSONText.string(seen.summary)
            object["indicator_types"] = JSONText.array([JSONText.string(indicatorType(seen.score))])
            object["pattern"] = JSONText.string(pattern)
            object["pattern_type"] = JSONText.string("stix")
            object["valid_from"] = JSONText.time(seen.firstSeen)
            object["labels"] = JSONText.array([JSONText.string(seen.score.name)])
            objects.append(object.text)
        }
        var bundle = JSONText.Object()
        bundle["type"] = JSONText.string("bundle")
        bundle["id"] = JSONText.string("bundle--" + UUID().uuidString.lowercased())
        bundle["objects"] = "[\n" + objects.joined(separator: ",\n") + "\n]"
        return bundle.text + "\n"
    }

    /// The STIX pattern for an indicator; nil for a CVE.
    static func pattern(_ type: IndicatorType, _ value: String) -> String? {
        let literal = "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        let path: String? = switch type {
        case .ipv4: "ipv4-addr:value"
        case .ipv6: "ipv6-addr:value"
        case .domain: "domain-name:value"
        case .url: "url:value"
        case .email: "email-addr:value"
        case .md5: "file:hashes.MD5"
        case .sha1: "file:hashes.'SHA-1'"
        case .sha256: "file:hashes.'SHA-256'"
        case .sha512: "file:hashes.'SHA-512'"
        case .cve: nil
        }
        return path.map { "[\($0) = \(literal)]" }
    }

    /// STIX's indicator-type vocabulary for a score.
    static func indicatorType(_ score: Score) -> String {
        switch score {
        case .malicious: "malicious-activity"
        case .suspicious: "anomalous-activity"
        case .benign: "benign"
        case .unknown: "unknown"
        }
    }

    /// Automator's own identity, the creator of its indicators: one UUIDv4, the same in every export.
    static let automatorIdentity = "6f2a4155-544f-4d41-9a54-4f5200535449"
}
