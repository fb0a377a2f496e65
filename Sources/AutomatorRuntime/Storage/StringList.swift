import Foundation

/// Lists of strings (labels, choices, tags, roles) as both stores keep them: a JSON array in a
/// text column.
enum StringList {
    static func encode(_ strings: [String]) -> String {
        "[" + strings.map(JSONText.string).joined(separator: ",") + "]"
    }

    static func decode(_ json: String) throws -> [String] {
        try JSONDecoder().decode([String].self, from: Data(json.utf8))
    }
}
