import Foundation

/// A question as Block Kit: the text in sections, then one button per choice. A button's `value`
/// carries the question's id and the choice (`["q-7","approve"]`), so the `block_actions` that
/// a click sends says everything the answer needs.
enum SlackQuestionBlocks {
    /// The `action_id`s of the buttons begin with it; other apps' actions are not answers.
    static let actionPrefix = "automator.answer."
    /// Block Kit's limits: characters of a section's text, buttons in an actions block,
    /// characters of a button's label.
    static let sectionLength = 3000
    static let buttonsPerBlock = 25
    static let labelLength = 75

    static func blocks(text: String, question: ChatQuestion) -> [SlackBlock] {
        var sections = [SlackBlock]()
        var rest = Substring(text)
        repeat {
            var cut = rest.index(rest.startIndex, offsetBy: sectionLength, limitedBy: rest.endIndex) ?? rest.endIndex
            // An escape (`&lt;`, `SlackMarkup`) stays whole in one section.
            if cut < rest.endIndex, let escape = rest[..<cut].suffix(3).lastIndex(of: "&") { cut = escape }
            sections.append(.section(String(rest[..<cut])))
            rest = rest[cut...]
        } while !rest.isEmpty
        let buttons = question.choices.enumerated().map { index, choice in
            SlackButton(label: String(choice.prefix(labelLength)), actionID: actionPrefix + String(index),
                        value: value(question: question.id, choice: choice))
        }
        let rows = stride(from: 0, to: buttons.count, by: buttonsPerBlock).map {
            SlackBlock.actions(Array(buttons[$0..<min($0 + buttonsPerBlock, buttons.count)]))
        }
        return sections + rows
    }

    static func value(question: String, choice: String) -> String {
        String(decoding: (try? JSONEncoder().encode([question, choice])) ?? Data(), as: UTF8.self)
    }

    /// The question's id and the choice a button of ours carries; nil for anything else.
    static func answer(actionID: String, value: String?) -> (question: String, choice: String)? {
        guard actionID.hasPrefix(actionPrefix), let value,
              let pair = try? JSONDecoder().decode([String].self, from: Data(value.utf8)), pair.count == 2
        else { return nil }
        return (pair[0], pair[1])
    }
}

/// The two kinds of block a question uses.
enum SlackBlock: Encodable, Equatable {
    case section(String)
    case actions([SlackButton])

    private enum Keys: String, CodingKey { case type, text, elements }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .section(let text):
            try container.encode("section", forKey: .type)
            try container.encode(SlackText(type: "mrkdwn", text: text), forKey: .text)
        case .actions(let buttons):
            try container.encode("actions", forKey: .type)
            try container.encode(buttons, forKey: .elements)
        }
    }
}

struct SlackButton: Encodable, Equatable {
    var label: String
    var actionID: String
    var value: String

    private enum Keys: String, CodingKey { case type, text, actionID = "action_id", value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode("button", forKey: .type)
        try container.encode(SlackText(type: "plain_text", text: label), forKey: .text)
        try container.encode(actionID, forKey: .actionID)
        try container.encode(value, forKey: .value)
    }
}

/// A Block Kit text object.
struct SlackText: Encodable, Equatable {
    var type: String
    var text: String
}
