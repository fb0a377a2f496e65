import Foundation

/// Open questions as `GET /api/v1/questions` and `automator question list --json` give them:
/// `{"questions": [{"id", "text", "choices", "roles", "incident", "run", "network", "channel",
/// "posted", "asked_at"}]}`; one question, answered or not, as `GET /api/v1/questions/{id}` and
/// `automator question show --json` give it: the same fields, and `answer`, `answered_by` and
/// `answered_at` once answered.
public enum QuestionJSON {
    public static func detail(_ question: ChatQuestionRecord, incident: IncidentID?) -> String {
        var object = members(question, incident: incident)
        object["answer"] = question.answer.map(JSONText.string)
        object["answered_by"] = question.answeredBy.map(JSONText.string)
        object["answered_at"] = question.answeredAt.map(JSONText.time)
        return object.text
    }

    /// Why a question id is not found, and where the ids are.
    public static func unknown(_ id: String) -> String {
        "there is no question \(id): automator question list (GET /api/v1/questions) lists those nobody answered"
    }

    public static func list(_ questions: [(question: ChatQuestionRecord, incident: IncidentID?)]) -> String {
        #"{"questions":"# + JSONText.array(questions.map { object($0.question, incident: $0.incident) }) + "}"
    }

    static func object(_ question: ChatQuestionRecord, incident: IncidentID?) -> String {
        members(question, incident: incident).text
    }

    private static func members(_ question: ChatQuestionRecord, incident: IncidentID?) -> JSONText.Object {
        var object = JSONText.Object()
        object["id"] = JSONText.string(question.id)
        object["text"] = JSONText.string(question.text)
        object["choices"] = JSONText.array(question.choices.map(JSONText.string))
        // The shared token may answer through the API; in chat and with a personal token only these roles.
        object["roles"] = JSONText.array(question.roles.map(JSONText.string))
        object["incident"] = incident.map { JSONText.string($0.description) }
        object["run"] = question.runID.map { JSONText.string($0.description) }
        object["network"] = question.network.isEmpty ? nil : JSONText.string(question.network)
        object["channel"] = JSONText.string(question.channel)
        object["posted"] = question.message == nil ? "false" : "true"
        object["asked_at"] = JSONText.time(question.askedAt)
        return object
    }
}
