import Foundation

/// The REPL's `:help`: the API's documentation, read from the LuaLS annotations of
/// `scripts/types/automator.lua`, the one place where the API is written down for editors and
/// people alike. Each documented function or module is a topic: the `---` lines above it, with
/// `@param` and `@return` made readable. The tables the API takes and gives (`---@class
/// incident.task`) are looked up too, and a parameter that is one shows its fields under it: the
/// fields are what `inc:task{ ... }` is written with.
public struct ReplHelp: Sendable {
    /// The documentation by topic: `json.decode`, `Incident:note`, `intel`.
    public let topics: [String: String]
    /// The documented tables by class name (`incident.task`, `Incident`): their comment and fields.
    let classes: [String: String]

    /// Reads `typesFile`; with no file, no topic.
    public init(typesFile: String) {
        let text = (try? String(contentsOfFile: typesFile, encoding: .utf8)) ?? ""
        self.init(annotations: text)
    }

    public init(annotations text: String) {
        var topics: [String: [String]] = [:]
        var classes: [String: [String]] = [:]
        var fields: [String: [String]] = [:]
        var comment: [String] = []
        // A last line ends a comment that closes the file.
        for line in text.components(separatedBy: "\n") + [""] {
            if line.hasPrefix("---") {
                comment.append(String(line.dropFirst(3)))
                continue
            }
            defer { comment = [] }
            guard !comment.isEmpty else { continue }
            if let (topic, signature) = Self.declaration(line) {
                topics[topic] = [signature] + comment.compactMap(Self.readable)
            } else if let name = comment.first(where: { $0.hasPrefix("@class ") })?.dropFirst("@class ".count)
                        .prefix(while: { $0 != ":" && $0 != " " }) {
                classes[String(name)] = [String(name)] + comment.compactMap(Self.readable)
                fields[String(name)] = comment.filter { $0.hasPrefix("@field ") }.compactMap(Self.readable)
            }
        }
        // A parameter whose type is a documented table: its fields under it, one level deeper.
        self.topics = topics.mapValues { lines in
            lines.flatMap { line -> [String] in
                let words = line.split(separator: " ")
                guard line.hasPrefix("  "), words.first?.hasSuffix(":") == true,
                      let type = words.dropFirst().first.map(String.init),
                      let members = fields[type], !members.isEmpty
                else { return [line] }
                return [line] + members.map { "  " + $0 }
            }.joined(separator: "\n")
        }
        self.classes = classes.mapValues { $0.joined(separator: "\n") }
    }

    /// `function a.b(x, y) end` gives `a.b` and `a.b(x, y)`; `name = {}` gives `name`.
    private static func declaration(_ line: String) -> (String, String)? {
        if line.hasPrefix("function ") {
            let signature = line.dropFirst("function ".count).prefix { $0 != ")" } + ")"
            return (String(signature.prefix { $0 != "(" }), String(signature))
        }
        let name = line.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
        guard !name.isEmpty, line.dropFirst(name.count).hasPrefix(" = {}") else { return nil }
        return (String(name), String(name))
    }

    /// A comment line for people: prose indented, `@param x T what` (and `@field`) as `x: T what`,
    /// `@return T` as `returns T`, other annotations (`@class`, `@type`) left out.
    private static func readable(_ line: String) -> String? {
        if let tag = ["@param ", "@field "].first(where: { line.hasPrefix($0) }) {
            let parameter = line.dropFirst(tag.count)
            let name = parameter.prefix { $0 != " " }
            return "  \(name):\(parameter.dropFirst(name.count))"
        }
        if line.hasPrefix("@return ") { return "  returns " + line.dropFirst("@return ".count) }
        if line.hasPrefix("@") { return nil }
        return "  " + line.trimmingCharacters(in: .whitespaces)
    }

    /// The text `:help NAME` shows, and whether NAME is documented. `inc:note` finds
    /// `Incident:note` (a method is looked up by its name when the variable is not the class).
    public func lookup(_ name: String) -> (text: String, found: Bool) {
        if name.isEmpty {
            let modules = topics.keys.filter { !$0.contains(".") && !$0.contains(":") }.sorted()
            return ("Documented: " + modules.joined(separator: ", ")
                + ". :help NAME shows one (:help incidents.find, :help inc:task).", true)
        }
        if let text = topics[name] ?? classes[name] { return (text + children(of: name), true) }
        if let method = name.split(separator: ":").dropFirst().first,
           let topic = topics.keys.sorted().first(where: { $0.hasSuffix(":" + method) })
        {
            return (topics[topic]!, true)
        }
        let names = Array(topics.keys) + classes.keys
        let near = names.filter { $0.localizedCaseInsensitiveContains(name) }.sorted()
        if near.isEmpty, let meant = Typo.meant(by: name, among: names) {
            return ("No help for \(name): did you mean \(meant)?", false)
        }
        return ("No help for \(name)" + (near.isEmpty ? ": :help lists what is documented." : "; try " + near.prefix(8).joined(separator: ", ")), false)
    }

    /// The methods of a class (`Incident`: `note`, `task`...), for completion.
    public func methods(of type: String) -> [String] {
        topics.keys.filter { $0.hasPrefix(type + ":") }.map { String($0.dropFirst(type.count + 1)) }.sorted()
    }

    /// A module's functions, listed under its own help.
    private func children(of module: String) -> String {
        let functions = topics.keys.filter { $0.hasPrefix(module + ".") || $0.hasPrefix(module + ":") }.sorted()
        return functions.isEmpty ? "" : "\n  functions: " + functions.joined(separator: ", ")
    }
}
