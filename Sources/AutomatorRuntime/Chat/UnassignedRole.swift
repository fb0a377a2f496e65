import Foundation

/// The one rule for a role `chat.roles` names no one for (absent, or an empty list): no person
/// holds it, so what it guards is refused to every person, and the operator does it meanwhile.
///
/// A person is whoever writes in Slack or Matrix, where anyone in the workspace can write to the
/// bot, and whoever holds a personal API token. The operator holds the data folder (the console of
/// `automator chat`, the REPL, `automator run`, the CLI's `question answer` and `action run
/// --approve` on the folder) or the server's shared token: the CLI lets them do all of it anyway.
/// So an approval (a `chat.approve` question, an action at or above `actions.approval.risk`) waits
/// for an approver or an operator, never for whoever is in the channel: a SOAR denies by default,
/// and a guest in `#soc` must not block an address. The refusal says which key names the role and
/// what the operator runs meanwhile; where it happens (chat, `ChatService.answer(person:)`,
/// `ActionService.requireApprover`) it is logged and journaled as any refusal for a role.
enum UnassignedRole {
    /// Whether the configuration names no one for any of `roles`.
    static func none(of roles: [String], in configured: [String: [String]]) -> Bool {
        roles.allSatisfy { configured[$0]?.isEmpty ?? true }
    }

    /// What a person is told: `no one has the role approver yet: chat.roles.approver in the
    /// server's configuration (--config) names them; meanwhile an operator answers with …`.
    ///
    /// - Parameter meanwhile: what the operator does instead, as a phrase: "an operator answers
    ///   with automator question answer Q-1a2b3c4d CHOICE (approve or deny)".
    static func refusal(_ roles: [String], meanwhile: String) -> String {
        "no one has the role \(roles.joined(separator: " or ")) yet: "
            + roles.map { "chat.roles.\($0)" }.joined(separator: " or ")
            + " in the server's configuration (--config) names them; meanwhile \(meanwhile)"
    }

    /// What the operator does for a question no one may answer: answer it from the CLI.
    static func operatorAnswers(_ question: ChatQuestionRecord) -> String {
        "an operator answers with automator question answer \(question.id) CHOICE ("
            + question.choices.joined(separator: " or ") + ")"
    }
}
