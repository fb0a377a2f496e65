import Foundation

/// MISP feeds (as a MISP server publishes them, or `misp-feed` writes them): a folder with
/// `manifest.json`, an object keyed by event uuid, and one `<uuid>.json` per event.
///
/// Read: the attributes of each event and of its objects whose type is an indicator (ip-src,
/// ip-dst, their `|port` forms, domain, hostname, domain|ip, url, md5, sha1, sha256, sha512,
/// filename|hash, email-src, email-dst, vulnerability). `to_ids` is respected: an attribute
/// without it is context (a victim's address, a sandbox's domain), not something to detect,
/// and is left out, as are deleted attributes. An entry's comment is the attribute's comment,
/// else its event's `info`.
struct MISPFeedParser {
    let feed: Feed

    static func manifestPath(of folder: String) -> String { folder + "/manifest.json" }

    func parse(problems: inout ProblemLog, emit: (FeedEntry) -> Void) throws(FeedError) {
        let manifestPath = Self.manifestPath(of: feed.path)
        let bytes = try FeedFile.read(manifestPath, for: feed)
        guard let manifest = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] else {
            throw FeedError(feed, "\(manifestPath) is not a MISP manifest (a JSON object keyed by event uuid): "
                + "fetch the feed again")
        }
        for uuid in manifest.keys.sorted() {
            // The uuid names a file: nothing but a uuid may reach the path.
            guard uuid.count == 36, uuid.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                problems.append(FeedProblem(file: manifestPath, object: uuid, message: "is not an event uuid"))
                continue
            }
            readEvent(uuid, problems: &problems, emit: emit)
        }
    }

    private func readEvent(_ uuid: String, problems: inout ProblemLog, emit: (FeedEntry) -> Void) {
        let file = feed.path + "/" + uuid + ".json"
        func skip(_ object: String, _ message: String) {
            problems.append(FeedProblem(file: file, object: object, message: message))
        }
        let bytes: [UInt8]
        do throws(FeedFile.Failure) {
            bytes = try FeedFile.read(file)
        } catch {
            skip(uuid, "the manifest lists this event, but \(error.message): fetch the feed again")
            return
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(bytes))
        } catch {
            skip(uuid, "is not valid JSON (\(error.localizedDescription)): fetch the feed again")
            return
        }
        guard let event = (root as? [String: Any])?["Event"] as? [String: Any] else {
            skip(uuid, "is not a MISP event ({\"Event\": {...}}): fetch the feed again")
            return
        }
        let info = event["info"] as? String
        var attributes = event["Attribute"] as? [Any] ?? []
        for case let object as [String: Any] in event["Object"] as? [Any] ?? [] {
            attributes += object["Attribute"] as? [Any] ?? []
        }
        for (position, element) in attributes.enumerated() {
            guard let attribute = element as? [String: Any] else {
                skip("\(uuid) attribute \(position)", "is not a JSON object")
                continue
            }
            let id = attribute["uuid"] as? String ?? "\(uuid) attribute \(position)"
            guard Self.flag(attribute["to_ids"]), !Self.flag(attribute["deleted"]) else { continue }
            guard let type = attribute["type"] as? String, let value = attribute["value"] as? String else {
                skip(id, "has no type or value")
                continue
            }
            let comment = (attribute["comment"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? info
            for (expectation, part) in Self.values(type: type, value: value) {
                do throws(IndicatorKey.Refusal) {
                    emit(FeedEntry(try IndicatorKey.parse(part, as: expectation), comment: comment))
                } catch {
                    skip(id, "\(type): \(error.message)")
                }
            }
        }
    }

    /// The indicators an attribute holds: none for a type that is not one (`text`, `regkey`),
    /// two for `domain|ip`.
    static func values(type: String, value: String) -> [(IndicatorKey.Expectation, String)] {
        let parts = type.contains("|") ? value.split(separator: "|", maxSplits: 1).map(String.init) : [value]
        func part(_ index: Int) -> String { index < parts.count ? parts[index] : "" }
        switch type {
        case "ip-src", "ip-dst": return [(.ip, value)]
        case "ip-src|port", "ip-dst|port":
            // An IPv6 address has colons, not bars: the port is after the last bar.
            return [(.ip, String(value[..<(value.lastIndex(of: "|") ?? value.endIndex)]))]
        case "domain", "hostname": return [(.only(.domain), value)]
        case "hostname|port": return [(.only(.domain), part(0))]
        case "domain|ip": return [(.only(.domain), part(0)), (.ip, part(1))]
        case "url": return [(.only(.url), value)]
        case "md5", "sha1", "sha256", "sha512": return [(.only(IndicatorType(rawValue: type)!), value)]
        case "filename|md5", "filename|sha1", "filename|sha256", "filename|sha512":
            return [(.only(IndicatorType(rawValue: String(type.dropFirst("filename|".count)))!), part(1))]
        case "email", "email-src", "email-dst": return [(.only(.email), value)]
        case "vulnerability": return [(.only(.cve), value)]
        default: return []
        }
    }

    /// MISP writes flags as JSON booleans, and older exports as `"1"`/`"0"`.
    private static func flag(_ value: Any?) -> Bool {
        switch value {
        case let flag as Bool: flag
        case let text as String: text == "1" || text.lowercased() == "true"
        default: false
        }
    }
}
