import Foundation
import Yams

/// A configuration file that cannot be used, and where.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String

    init(file: String, line: Int?, key: String?, _ message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        "\(file)" + (line.map { ":\($0)" } ?? "") + ": " + (key.map { "\($0): " } ?? "") + message
    }
}

/// Walks the YAML nodes, with the file and line for every error.
struct ConfigurationReader {
    let file: String
    let environment: [String: String]

    func error(_ node: Node?, _ key: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node?.mark.map(\.line), key: key.isEmpty ? nil : key, message)
    }

    func mapping(_ node: Node, key: String) throws(ConfigurationError) -> [(String, Node)] {
        guard case .mapping(let mapping) = node else { throw error(node, key, "a mapping (key: value lines) expected") }
        return try mapping.map { pair throws(ConfigurationError) in
            guard case .scalar(let name) = pair.key else { throw error(pair.key, key, "keys must be plain names") }
            return (name.string, pair.value)
        }
    }

    func sequence(_ node: Node, key: String) throws(ConfigurationError) -> [Node] {
        guard case .sequence(let items) = node else { throw error(node, key, "a list (- items) expected") }
        return Array(items)
    }

    /// The file's top-level mapping; nil for an empty file.
    static func root(of path: String, environment: [String: String]) throws(ConfigurationError)
        -> (ConfigurationReader, [(String, Node)])?
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, line: nil, key: nil, "cannot read the file: check its path and permissions")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw ConfigurationError(file: path, line: nil, key: nil, "not valid YAML: \(error)")
        }
        let reader = ConfigurationReader(file: path, environment: environment)
        guard let node else { return nil }
        return (reader, try reader.mapping(node, key: ""))
    }

    func only(_ names: [String], in fields: [(String, Node)], key: String) throws(ConfigurationError) {
        if let (name, node) = fields.first(where: { !names.contains($0.0) }) {
            throw error(node, key + "." + name, "unknown key: use " + names.joined(separator: ", "))
        }
    }

    /// A scalar, with `${NAME}` replaced by the environment's NAME.
    func string(_ node: Node?, key: String) throws(ConfigurationError) -> String {
        guard let node else { throw error(nil, key, "missing") }
        guard case .scalar(let scalar) = node else { throw error(node, key, "a value expected") }
        var text = scalar.string
        while let start = text.range(of: "${"), let end = text.range(of: "}", range: start.upperBound..<text.endIndex) {
            let name = String(text[start.upperBound..<end.lowerBound])
            guard let value = environment[name] else {
                throw error(node, key, "the environment variable \(name) is not set: set it, or write the value")
            }
            text.replaceSubrange(start.lowerBound..<end.upperBound, with: value)
        }
        return text
    }

    func bool(_ node: Node, key: String) throws(ConfigurationError) -> Bool {
        switch try string(node, key: key).lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error(node, key, "true or false expected")
        }
    }

    func count(_ node: Node, key: String) throws(ConfigurationError) -> Int {
        guard let value = Int(try string(node, key: key)), value > 0 else { throw error(node, key, "a whole number above 0 expected") }
        return value
    }
}

extension [(String, Node)] {
    subscript(_ name: String) -> Node? { first { $0.0 == name }?.1 }
}
