/// Whom a post of the bot's notifies, written as the network reads a mention: the bot escapes
/// everything else it posts (`SlackMarkup`, Matrix's empty `m.mentions`), so a mention is one only
/// where configured as one (`chat.tasks.escalate[].mention`).
///
/// A name typed with an @ (`@oncall-lead`) is shown as text by both networks and notifies nobody,
/// while it reads as if it did: it is refused with the form to write instead.
enum ChatMention {
    /// What is wrong with `mention` as a mention on `network` (`slack`, `matrix`), or nil.
    ///
    /// Slack's forms (Formatting text for app surfaces, "Mentioning users" and "Mentioning
    /// groups"): `<@U0123ABCD>` a person by member id, `<!subteam^S0123ABCD>` a user group,
    /// `<!here>` and `<!channel>`. Matrix: a user id, `@lead:example.org` (Matrix 1.7's
    /// `m.mentions.user_ids`).
    static func problem(_ mention: String, on network: String) -> String? {
        switch network {
        case "slack":
            return isSlack(mention) ? nil : """
                "\(mention)" notifies nobody in Slack: write <@U0123ABCD> for a person (their member id: profile, ⋮, \
                Copy member ID), <!subteam^S0123ABCD> for a user group (its id is in the group's link), or <!here>
                """
        case "matrix":
            return isMatrixUser(mention) ? nil : """
                "\(mention)" notifies nobody in Matrix: write a user id, as in @lead:example.org
                """
        default:
            return "a mention needs chat.slack or chat.matrix, where it notifies someone"
        }
    }

    private static func isSlack(_ mention: String) -> Bool {
        if mention == "<!here>" || mention == "<!channel>" { return true }
        for (prefix, first) in [("<@", "UW"), ("<!subteam^", "S")] {
            guard mention.hasPrefix(prefix), mention.hasSuffix(">") else { continue }
            let id = mention.dropFirst(prefix.count).dropLast()
            return id.first.map { first.contains($0) } == true
                && id.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
        }
        return false
    }

    private static func isMatrixUser(_ mention: String) -> Bool {
        let parts = mention.dropFirst().split(separator: ":", maxSplits: 1)
        return mention.hasPrefix("@") && parts.count == 2 && !parts[0].contains(where: \.isWhitespace)
            && !parts[1].contains(where: \.isWhitespace)
    }
}
