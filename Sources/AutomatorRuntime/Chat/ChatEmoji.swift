/// The emoji a script reacts with (`msg:react("memo")`), named as Slack names them: Slack takes
/// the name, while Matrix and the terminal show the character.
enum ChatEmoji {
    static let characters = ["rotating_light": "🚨", "memo": "📝", "eyes": "👀", "white_check_mark": "✅",
                             "warning": "⚠️", "x": "❌", "mag": "🔍"]

    /// The character of `name` (with or without its colons), or `name` itself when it is none we know.
    static func character(_ name: String) -> String {
        let bare = name.hasPrefix(":") && name.hasSuffix(":") && name.count > 2 ? String(name.dropFirst().dropLast()) : name
        return characters[bare] ?? name
    }
}
