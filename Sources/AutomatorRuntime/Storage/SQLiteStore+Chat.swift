public import Foundation
import GRDB

extension SQLiteStore: ChatStore {
    public func chatState(_ key: String) async throws(StoreError) -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT value FROM chat_state WHERE key = ?", arguments: [key]) }
    }

    public func setChatState(_ key: String, to value: String) async throws(StoreError) {
        try await write(.setChatState(key: key, value: value))
    }

    public func openCommandConversation(_ conversation: ChatCommandConversation) async throws(StoreError) {
        try await write(.openCommandConversation(conversation))
    }

    public func commandConversation(network: String, id: String, openedSince: Date) async throws(StoreError)
        -> ChatCommandConversation?
    {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT name, response_url, opened_at FROM chat_command WHERE network = ? AND id = ? AND opened_at >= ?
                """, arguments: [network, id, openedSince.millisecondsSince1970]).map { row in
                ChatCommandConversation(network: network, id: id, name: row[0], responseURL: row[1],
                                        openedAt: Date(millisecondsSince1970: row[2]))
            }
        }
    }

    public func deleteCommandConversations(openedBefore cutoff: Date) async throws(StoreError) -> Int {
        try await writeAlone { db in
            try db.execute(sql: "DELETE FROM chat_command WHERE opened_at < ?", arguments: [cutoff.millisecondsSince1970])
            return db.changesCount
        }
    }

    public func chatChannels(network: String) async throws(StoreError) -> [ChatChannelSettings] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT network, id, name, watched, verbose, incident, changed_by, changed_at FROM chat_channel
                WHERE network = ? ORDER BY name, id
                """, arguments: [network]).map { row in
                ChatChannelSettings(network: row[0], channel: ChatChannel(id: row[1], name: row[2]), watched: row[3],
                                    verbose: row[4], incident: (row[5] as Int?).map(IncidentID.init),
                                    changedBy: row[6], changedAt: Date(millisecondsSince1970: row[7]))
            }
        }
    }

    public func question(_ id: String) async throws(StoreError) -> ChatQuestionRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM chat_question WHERE id = ?", arguments: [id]).map(Self.question)
        }
    }

    public func question(network: String, channel: String, message: String) async throws(StoreError)
        -> ChatQuestionRecord?
    {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT * FROM chat_question WHERE network = ? AND channel = ? AND message = ?
                """, arguments: [network, channel, message]).map(Self.question)
        }
    }

    public func openQuestions(of incident: IncidentID?) async throws(StoreError)
        -> [(question: ChatQuestionRecord, incident: IncidentID?)]
    {
        let ofIncident = incident == nil ? "" : " AND COALESCE(chat_question.incident, run.incident) = ?"
        return try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT chat_question.*, COALESCE(chat_question.incident, run.incident) AS of_incident
                FROM chat_question LEFT JOIN run ON run.id = run_id
                WHERE answer IS NULL\(ofIncident) ORDER BY asked_at, chat_question.id
                """, arguments: StatementArguments(incident.map { [$0.number] } ?? [])).map { row in
                (try Self.question(row), (row["of_incident"] as Int?).map(IncidentID.init))
            }
        }
    }

    public func editedText(network: String, channel: String, message: String) async throws(StoreError) -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT text FROM chat_edit WHERE network = ? AND channel = ? AND message = ?",
                                arguments: [network, channel, message])
        }
    }

    public func deleteEditedTexts(keptBefore cutoff: Date) async throws(StoreError) -> Int {
        try await writeAlone { db in
            try db.execute(sql: "DELETE FROM chat_edit WHERE at < ?", arguments: [cutoff.millisecondsSince1970])
            return db.changesCount
        }
    }

    private static func question(_ row: Row) throws -> ChatQuestionRecord {
        var question = ChatQuestionRecord(
            id: row["id"], runID: (row["run_id"] as String?).map(RunID.init), network: row["network"],
            channel: row["channel"], message: row["message"], text: row["text"],
            choices: try StringList.decode(row["choices"]),
            roles: try StringList.decode(row["roles"]),
            askedAt: Date(millisecondsSince1970: row["asked_at"]))
        question.incident = (row["incident"] as Int?).map(IncidentID.init)
        question.answer = row["answer"]
        question.answeredBy = row["answered_by"]
        question.answeredAt = (row["answered_at"] as Int64?).map(Date.init(millisecondsSince1970:))
        return question
    }

    static func applyChatWrite(_ write: StoreWrite, to db: Database) throws -> StoreError? {
        switch write {
        case .setChatChannel(let settings):
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO chat_channel (network, id, name, watched, verbose, incident, changed_by, changed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    settings.network, settings.channel.id, settings.channel.name, settings.watched, settings.verbose,
                    settings.incident?.number, settings.changedBy, settings.changedAt.millisecondsSince1970,
                ])
        case .setChatState(let key, let value):
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO chat_state (key, value) VALUES (?, ?)")
                .execute(arguments: [key, value])
        case .keepEditedText(let edited):
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO chat_edit (network, channel, message, text, at) VALUES (?, ?, ?, ?, ?)")
                .execute(arguments: [edited.network, edited.channel, edited.message, edited.text,
                                     edited.at.millisecondsSince1970])
        case .openCommandConversation(let conversation):
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO chat_command (network, id, name, response_url, opened_at) VALUES (?, ?, ?, ?, ?)
                """).execute(arguments: [conversation.network, conversation.id, conversation.name, conversation.responseURL,
                                         conversation.openedAt.millisecondsSince1970])
        case .askQuestion(let question):
            try db.cachedStatement(sql: """
                INSERT INTO chat_question (id, run_id, network, channel, message, text, choices, roles, asked_at, incident)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    question.id, question.runID?.rawValue, question.network, question.channel, question.message,
                    question.text, StringList.encode(question.choices), StringList.encode(question.roles), question.askedAt.millisecondsSince1970,
                    question.incident?.number,
                ])
        case .questionPosted(let id, let message):
            try db.cachedStatement(sql: "UPDATE chat_question SET message = ? WHERE id = ?").execute(arguments: [message, id])
            if db.changesCount == 0 { return .questionNotFound(id) }
        case .answerQuestion(let id, let choice, let by, let at):
            try db.cachedStatement(sql: """
                UPDATE chat_question SET answer = ?, answered_by = ?, answered_at = ? WHERE id = ? AND answer IS NULL
                """).execute(arguments: [choice, by, at.millisecondsSince1970, id])
            if db.changesCount == 0 {
                guard let answer = try String?.fetchOne(db, sql: "SELECT answer FROM chat_question WHERE id = ?",
                                                        arguments: [id])
                else { return .questionNotFound(id) }
                return .questionAnswered(id, answer: answer ?? "")
            }
        default:
            preconditionFailure("not a chat write: \(write)")
        }
        return nil
    }
}
