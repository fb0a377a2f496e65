import Foundation
import Yams

/// A configuration file that cannot be used: every bad value found in it, each with its file,
/// line and key, so that a person fixes them in one pass rather than one a try.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    /// One bad value, where it is, and what to do.
    public struct Problem: CustomStringConvertible, Sendable, Hashable {
        public let file: String
        public let line: Int?
        public let key: String?
        public let message: String

        public var description: String {
            "\(file)" + (line.map { ":\($0)" } ?? "") + ": " + (key.map { "\($0): " } ?? "") + message
        }
    }

    /// In the file's order; never empty.
    public let problems: [Problem]

    init(_ problems: [Problem]) { self.problems = problems }

    init(file: String, _ message: String) { problems = [Problem(file: file, line: nil, key: nil, message: message)] }

    /// A problem a line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// A value of the file, with the key that holds it.
struct ConfigurationValue {
    /// Its path, as problems name it: `chat.slack.bot_token`, `feeds[0].path`.
    let key: String
    let node: Node
    /// Where a problem with the value is shown: a scalar's own line; for a mapping or a list, the
    /// line of its key (their own nodes start at their first entry, a line below), or its `-`.
    let line: Int?
}

/// The entries of a mapping of the file, in order.
struct ConfigurationMapping {
    /// The mapping itself, where a missing entry is reported.
    let value: ConfigurationValue
    let entries: [(name: String, value: ConfigurationValue)]

    subscript(_ name: String) -> ConfigurationValue? { entries.first { $0.name == name }?.value }
}

/// Walks the YAML nodes. A bad value is noted (`report`) with its file, line and key, and the
/// reading goes on without it, so that `read` throws every problem of the file at once: the
/// readers of values return nil for a value that is not there or was reported.
final class ConfigurationReader {
    let file: String
    let environment: [String: String]
    private var problems: [ConfigurationError.Problem] = []

    private init(file: String, environment: [String: String]) {
        self.file = file
        self.environment = environment
    }

    /// Reads the file at `path` with `sections` (each section's `init(reading:with:)`); nil for an
    /// empty file.
    ///
    /// - Throws: `ConfigurationError` with every problem the sections reported, in the file's
    ///   order; or the one that the file cannot be read or parsed.
    static func read<T>(_ path: String, environment: [String: String],
                        _ sections: (ConfigurationMapping, ConfigurationReader) -> T) throws(ConfigurationError) -> T?
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, "cannot read the file: check its path and permissions")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch let YamlError
            .duplicatedKeysInMapping(duplicates, context)
        {
            // Yams's own text of this one carries the whole file as its context: a log line of kilobytes.
            let keys = duplicates.joined(separator: ", ")
            throw ConfigurationError([ConfigurationError.Problem(
                file: path, line: context.mark.line, key: nil,
                message: "not valid YAML: \(keys) is given twice in one mapping, first here: YAML would keep one of "
                    + "the two, so put their entries under one \(keys)")])
        } catch {
            throw ConfigurationError(file: path, "not valid YAML: \(error)")
        }
        guard let node else { return nil }
        let reader = ConfigurationReader(file: path, environment: environment)
        let root = reader.mapping(ConfigurationValue(key: "", node: node, line: node.mark?.line))
        let result = root.map { sections($0, reader) }
        guard reader.problems.isEmpty else {
            // Each section reads its own keys: sorted into the file's order (a line's in the order found).
            let problems = reader.problems.enumerated().sorted {
                ($0.element.line ?? 0, $0.offset) < ($1.element.line ?? 0, $1.offset)
            }
            throw ConfigurationError(problems.map(\.element))
        }
        return result
    }

    /// Notes that `value` is wrong: `message` says what it should be.
    func report(_ value: ConfigurationValue, _ message: String) {
        problems.append(ConfigurationError.Problem(file: file, line: value.line, key: value.key.isEmpty ? nil : value.key,
                                                   message: message))
    }

    func mapping(_ value: ConfigurationValue) -> ConfigurationMapping? {
        guard case .mapping(let mapping) = value.node else {
            report(value, "a mapping (key: value lines) expected")
            return nil
        }
        var entries: [(name: String, value: ConfigurationValue)] = []
        for (key, node) in mapping {
            guard case .scalar(let name) = key else {
                report(ConfigurationValue(key: value.key, node: key, line: key.mark?.line), "keys must be plain names")
                continue
            }
            let line = if case .scalar = node { node.mark?.line } else { key.mark?.line }
            entries.append((name.string, ConfigurationValue(key: Self.key(name.string, in: value), node: node, line: line)))
        }
        return ConfigurationMapping(value: value, entries: entries)
    }

    func sequence(_ value: ConfigurationValue) -> [ConfigurationValue]? {
        guard case .sequence(let items) = value.node else {
            report(value, "a list (- items) expected")
            return nil
        }
        return items.enumerated().map { index, node in
            ConfigurationValue(key: "\(value.key)[\(index)]", node: node, line: node.mark?.line)
        }
    }

    /// Reports each entry of `mapping` that is not among `names` as unknown.
    func only(_ names: [String], in mapping: ConfigurationMapping) {
        for (name, value) in mapping.entries where !names.contains(name) {
            report(value, "unknown key: use " + names.joined(separator: ", "))
        }
    }

    /// The entry `name` of `mapping`, reported as missing (at the mapping's key) when it has none.
    func required(_ name: String, in mapping: ConfigurationMapping) -> ConfigurationValue? {
        guard let value = mapping[name] else {
            let parent = mapping.value
            report(ConfigurationValue(key: Self.key(name, in: parent), node: parent.node, line: parent.line), "missing")
            return nil
        }
        return value
    }

    /// The key of the entry `name` of `parent`: `chat.slack` and `bot_token` give `chat.slack.bot_token`.
    private static func key(_ name: String, in parent: ConfigurationValue) -> String {
        parent.key.isEmpty ? name : parent.key + "." + name
    }

    /// A scalar, with `${NAME}` replaced by the environment's NAME.
    func string(_ value: ConfigurationValue) -> String? {
        guard case .scalar(let scalar) = value.node else {
            report(value, "a value expected")
            return nil
        }
        var text = scalar.string
        while let start = text.range(of: "${"), let end = text.range(of: "}", range: start.upperBound..<text.endIndex) {
            let name = String(text[start.upperBound..<end.lowerBound])
            guard let variable = environment[name] else {
                report(value, "the environment variable \(name) is not set: set it, or write the value")
                return nil
            }
            text.replaceSubrange(start.lowerBound..<end.upperBound, with: variable)
        }
        return text
    }

    /// Each item of the list `value` as a string, the bad ones reported and left out.
    func strings(_ value: ConfigurationValue) -> [String]? {
        sequence(value)?.compactMap(string)
    }

    func bool(_ value: ConfigurationValue) -> Bool? {
        switch string(value)?.lowercased() {
        case nil: return nil
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report(value, "true or false expected")
            return nil
        }
    }

    func count(_ value: ConfigurationValue) -> Int? {
        guard let text = string(value) else { return nil }
        guard let count = Int(text), count > 0 else {
            report(value, "a whole number above 0 expected")
            return nil
        }
        return count
    }

    /// A duration above 0 (`DurationText`: "90s", "4h").
    func duration(_ value: ConfigurationValue) -> TimeInterval? {
        guard let text = string(value) else { return nil }
        guard let seconds = DurationText.seconds(text), seconds > 0 else {
            report(value, DurationText.expected)
            return nil
        }
        return seconds
    }
}
