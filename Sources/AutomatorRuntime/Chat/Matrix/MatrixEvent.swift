/// A room event as the client-server API gives it, with only the fields the adapter reads.
struct MatrixEvent: Decodable, Sendable {
    var type: String
    var eventID: String?
    var sender: String?
    /// Set on state events: the member's user id for `m.room.member`, empty for the others.
    var stateKey: String?
    var originServerTS: Int64?
    var content: MatrixContent
    /// The membership before this event, for `m.room.member`.
    var previousMembership: String?

    enum CodingKeys: String, CodingKey {
        case type, sender, content, unsigned
        case eventID = "event_id"
        case stateKey = "state_key"
        case originServerTS = "origin_server_ts"
    }

    private struct Unsigned: Decodable {
        var prevContent: MatrixContent?
        enum CodingKeys: String, CodingKey { case prevContent = "prev_content" }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        type = try container.decode(String.self, forKey: .type)
        eventID = try container.decodeIfPresent(String.self, forKey: .eventID)
        sender = try container.decodeIfPresent(String.self, forKey: .sender)
        stateKey = try container.decodeIfPresent(String.self, forKey: .stateKey)
        originServerTS = try container.decodeIfPresent(Int64.self, forKey: .originServerTS)
        // A redacted event may come without content.
        content = try container.decodeIfPresent(MatrixContent.self, forKey: .content) ?? MatrixContent()
        previousMembership = try container.decodeIfPresent(Unsigned.self, forKey: .unsigned)?.prevContent?.membership
    }
}

/// The content of the events the adapter reads and sends: messages, reactions, and the state
/// that names rooms and members. One type for all of them; each uses a few of the fields.
struct MatrixContent: Codable, Sendable {
    // m.room.message
    var msgtype: String?
    var body: String?
    /// `org.matrix.custom.html` when `formattedBody` is `body` in HTML.
    var format: String?
    var formattedBody: String?
    /// A file's name when `body` is its caption (Matrix 1.10).
    var filename: String?
    /// A file's `mxc://` URI.
    var url: String?
    var info: FileInfo?
    // m.room.message and m.reaction
    var relatesTo: Relation?
    /// An edit's (`m.replace`) new text.
    var newContent: NewContent?
    /// Whom the message mentions (Matrix 1.7): the bot's say `{}`, nobody.
    var mentions: Mentions?
    // m.room.member
    var membership: String?
    var displayname: String?
    // m.room.name, m.room.canonical_alias
    var name: String?
    var alias: String?

    struct FileInfo: Codable, Sendable {
        var size: Int?
        var mimetype: String?
    }

    /// A thread (`m.thread`), a reaction (`m.annotation`), an edit (`m.replace`), and a reply.
    struct Relation: Codable, Sendable {
        var relType: String?
        var eventID: String?
        /// A reaction's emoji.
        var key: String?
        /// In a thread: true when `inReplyTo` is only there for clients without threads.
        var isFallingBack: Bool?
        var inReplyTo: Reply?

        enum CodingKeys: String, CodingKey {
            case key
            case relType = "rel_type"
            case eventID = "event_id"
            case isFallingBack = "is_falling_back"
            case inReplyTo = "m.in_reply_to"
        }
    }

    /// What an edit makes of the message's text (its `m.relates_to` stays the original's).
    struct NewContent: Codable, Sendable {
        var msgtype: String?
        var body: String?
        var format: String?
        var formattedBody: String?

        enum CodingKeys: String, CodingKey {
            case msgtype, body, format
            case formattedBody = "formatted_body"
        }
    }

    /// `m.mentions`. Present, even empty, it turns off the homeserver's older rules that read
    /// the body: `@room`, or a person's name, in an alert's title or a file's name the bot posts
    /// would otherwise notify the whole room or that person, as a mention does.
    struct Mentions: Codable, Sendable {
        static let nobody = Mentions()
        /// The people notified: the mentions a post was given (`ChatPost.mentions`).
        var userIDs: [String]?

        enum CodingKeys: String, CodingKey { case userIDs = "user_ids" }
    }

    struct Reply: Codable, Sendable {
        var eventID: String
        enum CodingKeys: String, CodingKey { case eventID = "event_id" }
    }

    enum CodingKeys: String, CodingKey {
        case msgtype, body, format, filename, url, info, membership, displayname, name, alias
        case formattedBody = "formatted_body"
        case relatesTo = "m.relates_to"
        case newContent = "m.new_content"
        case mentions = "m.mentions"
    }
}

extension MatrixContent {
    /// Each field read alone, one of another type as absent (`mentions`, the bot's own, is not
    /// read). Anyone in a room, a federated one included, can send any JSON, and a message whose
    /// `format` was `5` or whose `m.relates_to` was a string failed as a whole and was dropped,
    /// while clients showed its body: a link posted so went unchecked and was not journaled.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func field<Value: Decodable>(_ key: CodingKeys) -> Value? {
            try? container.decodeIfPresent(Value.self, forKey: key)
        }
        self.init(msgtype: field(.msgtype), body: field(.body), format: field(.format),
                  formattedBody: field(.formattedBody), filename: field(.filename), url: field(.url),
                  info: field(.info), relatesTo: field(.relatesTo), newContent: field(.newContent),
                  membership: field(.membership), displayname: field(.displayname), name: field(.name),
                  alias: field(.alias))
    }
}

/// Decodes what it can: a malformed event is dropped rather than failing its whole batch (and
/// stalling the sync on it forever), since anyone in a room can send any JSON.
struct Lenient<Value: Decodable>: Decodable {
    var value: Value?

    init(from decoder: any Decoder) throws { value = try? Value(from: decoder) }
}
