// The parts of the Web API's objects the adapter reads (Slack's snake-case names in coding keys).

/// A channel, private channel or direct conversation (`conversations.info`, `conversations.list`).
struct SlackConversation: Decodable {
    var id: String
    /// None for a direct conversation.
    var name: String?
    var isIm: Bool?
    /// The other person, in a direct conversation.
    var user: String?
    var isArchived: Bool?
    /// Posting permissions that let only some members post (an announcement channel).
    var isReadOnly: Bool?

    private enum CodingKeys: String, CodingKey {
        case id, name, user
        case isIm = "is_im", isArchived = "is_archived", isReadOnly = "is_read_only"
    }
}

/// A person or a bot (`users.info`). `name` is the workspace's unique handle, which only its
/// owner and admins change; the display name is free text anyone could set to a colleague's,
/// so the roles never see it.
struct SlackUser: Decodable {
    var id: String
    var name: String
}

/// A file (`files.info`, and the `files` of a `file_share` message).
struct SlackFile: Decodable, Sendable {
    var id: String
    var name: String?
    var title: String?
    var size: Int?
    var mimetype: String?
    var urlPrivate: String?
    /// `check_file_info` when the event leaves the details out: `files.info` has them.
    var fileAccess: String?

    private enum CodingKeys: String, CodingKey {
        case id, name, title, size, mimetype, urlPrivate = "url_private", fileAccess = "file_access"
    }

    /// The file for the bot; nil when the event did not say where to download it.
    var chatFile: ChatFile? {
        guard let urlPrivate, fileAccess != "check_file_info" else { return nil }
        return ChatFile(id: id, name: name ?? title ?? id, size: size, mimeType: mimetype, url: urlPrivate)
    }
}
