import Foundation

/// A parameter's value, as scripts, the CLI and chat give it.
public enum ActionValue: Sendable, Hashable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case boolean(Bool)

    var json: String {
        switch self {
        case .string(let text): JSONText.string(text)
        case .integer(let value): String(value)
        case .number(let value): value.isFinite ? String(value) : "null"
        case .boolean(let value): value ? "true" : "false"
        }
    }

    /// The value as people read it in the journal and in questions.
    public var text: String {
        switch self {
        case .string(let text): text
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .boolean(let value): String(value)
        }
    }

    /// Parameters as a JSON object, keys in order: the form that is sent, stored and compared.
    static func json(_ parameters: [String: ActionValue]) -> String {
        var object = JSONText.Object()
        for name in parameters.keys.sorted() { object[name] = parameters[name]!.json }
        return object.text
    }

    /// A JSON object's members, as `JSONSerialization` reads them, for `ActionParameters` to check.
    static func members(json text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}
