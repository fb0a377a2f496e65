public import Foundation
import PostgresNIO

/// The chat bot's state in PostgreSQL, as in SQLite: settings per channel, the adapters' state
/// (key and value), edited messages' texts, slash commands' conversations, the questions runs wait on. `verbose` is a keyword of PostgreSQL's: quoted.
extension PostgresStore: ChatStore {
    public func chatState(_ key: String) async throws(StoreError) -> String? {
        try await read { session in
            try await session.rows("SELECT value FROM chat_state WHERE key = \(key)").first?[0].decode(String.self)
        }
    }

    public func setChatState(_ key: String, to value: String) async throws(StoreError) {
        try await write(.setChatState(key: key, value: value))
    }

    public func editedText(network: String, channel: String, message: String) async throws(StoreError) -> String? {
        try await read { session in
            try await session.rows("""
                SELECT text FROM chat_edit WHERE network = \(network) AND channel = \(channel) AND message = \(message)
                """).first?[0].decode(String.self)
        }
    }

    public func deleteEditedTexts(keptBefore cutoff: Date) async throws(StoreError) -> Int {
        try await read { session in
            try await session.changes("DELETE FROM chat_edit WHERE at < \(cutoff.millisecondsSince1970)")
        }
    }

    public func openCommandConversation(_ conversation: ChatCommandConversation) async throws(StoreError) {
        try await write(.openCommandConversation(conversation))
    }

    public func commandConversation(network: String, id: String, openedSince: Date) async throws(StoreError)
        -> ChatCommandConversation?
    {
        try await read { session in
            try await session.rows("""
                SELECT name, response_url, opened_at FROM chat_command
                WHERE network = \(network) AND id = \(id) AND opened_at >= \(openedSince.millisecondsSince1970)
                """).first.map { row in
                ChatCommandConversation(network: network, id: id, name: try row[0].decode(String.self),
                                        responseURL: try row[1].decode(String.self),
                                        openedAt: Date(millisecondsSince1970: try row[2].decode(Int64.self)))
            }
        }
    }

    public func deleteCommandConversations(openedBefore cutoff: Date) async throws(StoreError) -> Int {
        try await read { session in
            try await session.changes("DELETE FROM chat_command WHERE opened_at < \(cutoff.millisecondsSince1970)")
        }
    }

    public func chatChannels(network: String) async throws(StoreError) -> [ChatChannelSettings] {
        try await read { session in
            try await session.rows("""
                SELECT network, id, name, watched, "verbose", incident, changed_by, changed_at FROM chat_channel
                WHERE network = \(network) ORDER BY name, id
                """).map { row in
                ChatChannelSettings(network: try row[0].decode(String.self),
                                    channel: ChatChannel(id: try row[1].decode(String.self), name: try row[2].decode(String.self)),
                                    watched: try row[3].decode(Bool.self), verbose: try row[4].decode(Bool.self),
                                    incident: try row[5].decode(Int?.self).map(IncidentID.init),
                                    changedBy: try row[6].decode(String.self), changedAt: try row.date(7)!)
            }
        }
    }

    public func question(_ id: String) async throws(StoreError) -> ChatQuestionRecord? {
        try await read { session in
            try await session.rows("\(unescaped: Self.selectQuestion) WHERE id = \(id)").first.map(Self.question(from:))
        }
    }

    public func question(network: String, channel: String, message: String) async throws(StoreError)
        -> ChatQuestionRecord?
    {
        try await read { session in
            try await session.rows("""
                \(unescaped: Self.selectQuestion)
                WHERE network = \(network) AND channel = \(channel) AND message = \(message)
                """).first.map(Self.question(from:))
        }
    }

    public func openQuestions(of incident: IncidentID?) async throws(StoreError)
        -> [(question: ChatQuestionRecord, incident: IncidentID?)]
    {
        try await read { session in
            let select = """
                SELECT q.id, q.run_id, q.network, q.channel, q.message, q.text, q.choices, q.roles, q.asked_at, q.answer,
                       q.answered_by, q.answered_at, q.incident, COALESCE(q.incident, run.incident)
                FROM chat_question q LEFT JOIN run ON run.id = q.run_id WHERE q.answer IS NULL
                """
            let rows = if let incident {
                try await session.rows("""
                    \(unescaped: select) AND COALESCE(q.incident, run.incident) = \(incident.number) ORDER BY q.asked_at, q.id
                    """)
            } else {
                try await session.rows("\(unescaped: select) ORDER BY q.asked_at, q.id")
            }
            return try rows.map { row in
                (try Self.question(from: row), try row[13].decode(Int?.self).map(IncidentID.init))
            }
        }
    }

    private static let selectQuestion = """
        SELECT id, run_id, network, channel, message, text, choices, roles, asked_at, answer, answered_by, answered_at,
               incident
        FROM chat_question
        """

    private static func question(from row: PostgresRandomAccessRow) throws -> ChatQuestionRecord {
        var question = ChatQuestionRecord(
            id: try row[0].decode(String.self), runID: try row[1].decode(String?.self).map(RunID.init),
            network: try row[2].decode(String.self), channel: try row[3].decode(String.self),
            message: try row[4].decode(String?.self), text: try row[5].decode(String.self),
            choices: try StringList.decode(row[6].decode(String.self)), roles: try StringList.decode(row[7].decode(String.self)),
            askedAt: try row.date(8)!)
        question.answer = try row[9].decode(String?.self)
        question.answeredBy = try row[10].decode(String?.self)
        question.answeredAt = try row.date(11)
        question.incident = try row[12].decode(Int?.self).map(IncidentID.init)
        return question
    }

    static func applyChatWrite(_ write: StoreWrite, to session: PostgresSession) async throws -> StoreError? {
        switch write {
        case .setChatChannel(let settings):
            try await session.changes("""
                INSERT INTO chat_channel (network, id, name, watched, "verbose", incident, changed_by, changed_at)
                VALUES (\(settings.network), \(settings.channel.id), \(settings.channel.name), \(settings.watched),
                        \(settings.verbose), \(settings.incident?.number), \(settings.changedBy),
                        \(settings.changedAt.millisecondsSince1970))
                ON CONFLICT (network, id) DO UPDATE SET name = excluded.name, watched = excluded.watched,
                    "verbose" = excluded."verbose", incident = excluded.incident, changed_by = excluded.changed_by,
                    changed_at = excluded.changed_at
                """)
            try await notify(.chatChannels(network: settings.network), in: session)
        case .setChatState(let key, let value):
            try await session.changes("""
                INSERT INTO chat_state (key, value) VALUES (\(key), \(value))
                ON CONFLICT (key) DO UPDATE SET value = excluded.value
                """)
        case .keepEditedText(let edited):
            try await session.changes("""
                INSERT INTO chat_edit (network, channel, message, text, at)
                VALUES (\(edited.network), \(edited.channel), \(edited.message), \(edited.text), \(edited.at.millisecondsSince1970))
                ON CONFLICT (network, channel, message) DO UPDATE SET text = excluded.text, at = excluded.at
                """)
        case .openCommandConversation(let conversation):
            try await session.changes("""
                INSERT INTO chat_command (network, id, name, response_url, opened_at)
                VALUES (\(conversation.network), \(conversation.id), \(conversation.name), \(conversation.responseURL),
                        \(conversation.openedAt.millisecondsSince1970))
                ON CONFLICT (network, id) DO NOTHING
                """)
        case .askQuestion(let question):
            try await session.changes("""
                INSERT INTO chat_question (id, run_id, network, channel, message, text, choices, roles, asked_at, incident)
                VALUES (\(question.id), \(question.runID?.rawValue), \(question.network), \(question.channel),
                        \(question.message), \(question.text), \(StringList.encode(question.choices)),
                        \(StringList.encode(question.roles)), \(question.askedAt.millisecondsSince1970),
                        \(question.incident?.number))
                """)
        case .questionPosted(let id, let message):
            let changed = try await session.changes("UPDATE chat_question SET message = \(message) WHERE id = \(id)")
            if changed == 0 { return .questionNotFound(id) }
        case .answerQuestion(let id, let choice, let by, let at):
            let changed = try await session.changes("""
                UPDATE chat_question SET answer = \(choice), answered_by = \(by), answered_at = \(at.millisecondsSince1970)
                WHERE id = \(id) AND answer IS NULL
                """)
            if changed == 0 {
                guard let row = try await session.rows("SELECT answer FROM chat_question WHERE id = \(id)").first else {
                    return .questionNotFound(id)
                }
                return .questionAnswered(id, answer: try row[0].decode(String?.self) ?? "")
            }
            try await notify(.questionAnswered(id), in: session)
        default:
            preconditionFailure("not a chat write: \(write)")
        }
        return nil
    }
}
