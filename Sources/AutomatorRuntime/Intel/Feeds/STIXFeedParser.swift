import Foundation

/// STIX 2.1 bundles: the `indicator` objects whose pattern is equality comparisons joined by OR
/// (see `STIXPattern`). Other objects (observed data, malware, relationships) are not
/// indicators to look up and are passed over; revoked indicators, and those whose
/// `valid_until` has passed when the feed is loaded, are left out.
///
/// An entry's comment is the indicator's `name`, else its `description`.
enum STIXFeedParser {
    static func parse(_ bytes: [UInt8], feed: Feed, problems: inout ProblemLog,
                      emit: (FeedEntry) -> Void) throws(FeedError) {
        let file = feed.path
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            throw FeedError(feed, "\(file) is not valid JSON (\(error.localizedDescription)); "
                + "a STIX feed is one bundle: {\"type\": \"bundle\", \"objects\": [...]}")
        }
        guard let bundle = json as? [String: Any], bundle["type"] as? String == "bundle",
              let objects = bundle["objects"] as? [Any] else {
            throw FeedError(feed, "\(file) is not a STIX 2.1 bundle: it needs \"type\": \"bundle\" "
                + "and an \"objects\" array")
        }
        let now = Date()
        let timestamps = [ISO8601DateFormatter(), ISO8601DateFormatter()]
        timestamps[1].formatOptions.insert(.withFractionalSeconds)
        for (position, element) in objects.enumerated() {
            var id = "objects[\(position)]"
            func skip(_ message: String) {
                problems.append(FeedProblem(file: file, object: id, message: message))
            }
            guard let object = element as? [String: Any] else {
                skip("is not a JSON object")
                continue
            }
            guard object["type"] as? String == "indicator" else { continue }
            id = object["id"] as? String ?? id
            if object["revoked"] as? Bool == true { continue }
            if let text = object["valid_until"] as? String {
                guard let until = timestamps.lazy.compactMap({ $0.date(from: text) }).first else {
                    skip("valid_until \"\(text)\" is not a STIX timestamp (2024-05-01T00:00:00Z)")
                    continue
                }
                if until <= now { continue }
            }
            if let language = object["pattern_type"] as? String, language != "stix" {
                skip("pattern_type \"\(language)\" is not read: only STIX patterns are")
                continue
            }
            guard let pattern = object["pattern"] as? String else {
                skip("has no pattern")
                continue
            }
            let comparisons: [STIXPattern.Comparison]
            do throws(STIXPattern.Unsupported) {
                comparisons = try STIXPattern.comparisons(in: pattern)
            } catch {
                skip("unsupported pattern (\(error.reason)): only comparisons such as "
                    + "[ipv4-addr:value = '198.51.100.7'], joined by OR, are read")
                continue
            }
            let comment = object["name"] as? String ?? object["description"] as? String
            for comparison in comparisons {
                guard let expectation = comparison.expectation else {
                    skip("\(comparison.path) is not read (ipv4-addr:value, ipv6-addr:value, domain-name:value, "
                        + "url:value, email-addr:value and file:hashes.MD5/'SHA-1'/'SHA-256'/'SHA-512' are)")
                    continue
                }
                do throws(IndicatorKey.Refusal) {
                    emit(FeedEntry(try IndicatorKey.parse(comparison.value, as: expectation), comment: comment))
                } catch {
                    skip(error.message)
                }
            }
        }
    }
}
