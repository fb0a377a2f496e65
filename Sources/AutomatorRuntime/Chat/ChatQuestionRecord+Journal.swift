import Foundation

/// What a question leaves in its incident's journal: who was asked what, who answered, whose
/// answer was refused. The server's chat writes it, and `automator test` the same, so that a
/// test sees the journal a server would keep.
extension ChatQuestionRecord {
    /// `asked Q-1a2b3c4d in #soc: Block 203.0.113.7? (approve, deny)`, `channel` as the playbook named it.
    func asked(in channel: String) -> String {
        "asked \(id) in \(channel): \(text) (\(choices.joined(separator: ", ")))"
    }

    /// Who may answer, as its post and the journal say it: ` (approver only)`, and who answers
    /// while no one has its roles (`UnassignedRole`); empty for anyone.
    ///
    /// - Parameter atTerminal: whether it is asked at a terminal, whose person is the operator
    ///   and answers it there.
    func whoMayAnswer(roles configured: [String: [String]], atTerminal: Bool = false) -> String {
        guard !roles.isEmpty else { return "" }
        let only = " (\(roles.joined(separator: " or ")) only)"
        guard UnassignedRole.none(of: roles, in: configured) else { return only }
        return only + "; no one has that role yet: "
            + (atTerminal ? "the operator answers here" : UnassignedRole.operatorAnswers(self))
    }

    /// The entry of its answer: who decided what.
    func answered(_ choice: String, by: String, on incident: IncidentID, at: Date) -> JournalEntry {
        JournalEntry(incident: incident, at: at, actor: by, kind: .approval, text: "\(text): \(choice)")
    }

    /// The entry of a question nobody answered by its deadline, which automator answered `timeout`:
    /// who was asked, where and when, and what that decided (an approval is a no: `actions.run`
    /// does not run the action, whose own entry names this question).
    func timedOut(on incident: IncidentID, deadline: Date, at: Date) -> JournalEntry {
        let time = { (date: Date) in JSONText.time(date).dropFirst().dropLast() }
        let who = roles.isEmpty ? "anyone" : "the role " + roles.joined(separator: " or ")
        let decided = isApproval ? "not approved" : "answered \(ChatService.timedOut)"
        return JournalEntry(incident: incident, at: at, actor: "automator", kind: .approval,
                            text: "\(id) timed out, \(decided): nobody answered by \(time(deadline)); asked \(who) in "
                                + "\(channel) at \(time(askedAt)): \(text)")
    }

    /// The entry of an answer refused to someone who holds none of its roles.
    func refused(_ choice: String, by: String, on incident: IncidentID, at: Date = Date()) -> JournalEntry {
        JournalEntry(incident: incident, at: at, actor: by, kind: .refused,
                     text: "answer \(choice) to \(id) (\(text)), for the role \(roles.joined(separator: " or "))")
    }
}
