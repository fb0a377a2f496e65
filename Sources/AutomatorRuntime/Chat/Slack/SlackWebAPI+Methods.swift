import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The Web API methods the adapter calls, each as Slack documents it.
extension SlackWebAPI {
    /// `auth.test`: the bot's own user; `.unauthorized` for a bad token.
    func authTest() async throws(ChatError) -> ChatUser {
        struct Answer: Decodable {
            var userId: String
            var user: String

            private enum CodingKeys: String, CodingKey { case userId = "user_id", user }
        }
        let answer = try await call("auth.test", [], as: Answer.self)
        return ChatUser(id: answer.userId, name: answer.user)
    }

    /// `apps.connections.open` with the app-level token: the URL of a new Socket Mode connection.
    func openConnection(appToken: String) async throws(ChatError) -> String {
        struct Answer: Decodable {
            var url: String?
            var error: String?
        }
        let refusals: Set = ["invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive", "token_revoked",
                             "token_expired"]
        let answer = try await call("apps.connections.open", [], as: Answer.self, harmless: refusals, token: appToken)
        guard let url = answer.url else {
            throw ChatError(.unauthorized, """
                Slack refused the app token for Socket Mode (\(answer.error ?? "no URL")): chat.slack.app_token must be \
                an app-level token (xapp-…, Basic Information, App-Level Tokens) with connections:write, and Socket \
                Mode must be on in the app's settings
                """)
        }
        return url
    }

    /// `conversations.list`, page after page: the public channels, and the private ones the bot
    /// is in; archived ones and direct conversations left out.
    func conversations() async throws(ChatError) -> [SlackConversation] {
        struct Answer: Decodable {
            struct Metadata: Decodable {
                var nextCursor: String?

                private enum CodingKeys: String, CodingKey { case nextCursor = "next_cursor" }
            }
            var channels: [SlackConversation]
            var responseMetadata: Metadata?

            private enum CodingKeys: String, CodingKey { case channels, responseMetadata = "response_metadata" }
        }
        var all = [SlackConversation]()
        var cursor = ""
        repeat {
            var arguments = [("types", "public_channel,private_channel"), ("exclude_archived", "true"), ("limit", "200")]
            if !cursor.isEmpty { arguments.append(("cursor", cursor)) }
            let page = try await call("conversations.list", arguments, as: Answer.self)
            all += page.channels
            cursor = page.responseMetadata?.nextCursor ?? ""
        } while !cursor.isEmpty
        return all
    }

    /// `conversations.info`.
    func conversation(_ id: String) async throws(ChatError) -> SlackConversation {
        struct Answer: Decodable { var channel: SlackConversation }
        return try await call("conversations.info", [("channel", id)], as: Answer.self).channel
    }

    /// `conversations.replies` from the message `ts`: the message itself comes first (a thread's
    /// parent, or a message without replies). Nil when the channel has no such message.
    func message(_ ts: String, in channel: String) async throws(ChatError) -> SlackEvent? {
        struct Answer: Decodable { var messages: [SlackEvent]? }
        let answer = try await call("conversations.replies", [("channel", channel), ("ts", ts), ("limit", "1")],
                                    as: Answer.self, harmless: ["thread_not_found"])
        return answer.messages?.first { $0.ts == ts }
    }

    /// `conversations.join`: public channels only; the bot is invited to private ones.
    func join(_ id: String) async throws(ChatError) {
        _ = try await call("conversations.join", [("channel", id)], as: SlackStatus.self)
    }

    /// `conversations.leave`.
    func leave(_ id: String) async throws(ChatError) {
        _ = try await call("conversations.leave", [("channel", id)], as: SlackStatus.self)
    }

    /// `users.info`.
    func user(_ id: String) async throws(ChatError) -> SlackUser {
        struct Answer: Decodable { var user: SlackUser }
        return try await call("users.info", [("user", id)], as: Answer.self).user
    }

    /// `chat.postMessage`, in the thread if the post has one, a question's choices as buttons.
    /// Never unfurled: the bot's posts name the URLs it was asked about, and an unfurl is Slack's
    /// servers fetching the attacker's page, which tells the attacker someone is looking.
    func postMessage(_ post: ChatPost) async throws(ChatError) -> ChatMessageRef {
        struct Arguments: Encodable {
            var channel: String
            var text: String
            var threadTs: String?
            var blocks: [SlackBlock]?
            let unfurlLinks = false
            let unfurlMedia = false

            private enum CodingKeys: String, CodingKey {
                case channel, text, threadTs = "thread_ts", blocks, unfurlLinks = "unfurl_links", unfurlMedia = "unfurl_media"
            }
        }
        struct Answer: Decodable {
            var channel: String
            var ts: String
        }
        let arguments = Arguments(channel: post.channel, text: post.text, threadTs: post.thread,
                                  blocks: post.question.map { SlackQuestionBlocks.blocks(text: post.text, question: $0) })
        let answer = try await call("chat.postMessage", json: arguments, as: Answer.self)
        return ChatMessageRef(channel: answer.channel, id: answer.ts)
    }

    /// `reactions.add`; a reaction the bot already made is no error.
    func addReaction(_ name: String, to message: ChatMessageRef) async throws(ChatError) {
        _ = try await call("reactions.add", [("channel", message.channel), ("timestamp", message.id), ("name", name)],
                           as: SlackStatus.self, harmless: ["already_reacted"])
    }

    /// `files.info`.
    func file(_ id: String) async throws(ChatError) -> SlackFile {
        struct Answer: Decodable { var file: SlackFile }
        return try await call("files.info", [("file", id)], as: Answer.self).file
    }

    /// Slack's upload flow: `files.getUploadURLExternal`, the bytes POSTed to the URL it gives
    /// (no token: the URL is its own authorisation), then `files.completeUploadExternal` to share
    /// the file in `channel`.
    func upload(to channel: String, name: String, data: [UInt8], comment: String?) async throws(ChatError) {
        struct Target: Decodable {
            var uploadUrl: String
            var fileId: String

            private enum CodingKeys: String, CodingKey { case uploadUrl = "upload_url", fileId = "file_id" }
        }
        struct Uploaded: Encodable {
            var id: String
            var title: String
        }
        let target = try await call("files.getUploadURLExternal", [("filename", name), ("length", String(data.count))],
                                    as: Target.self)
        var request = HTTPClientRequest(url: target.uploadUrl)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        request.body = .bytes(ByteBuffer(bytes: data))
        let response = try await send(request, what: "upload of \(name)")
        _ = try? await response.body.collect(upTo: Self.maximumAnswer)
        guard response.status == .ok else {
            throw ChatError(.unavailable, "Slack answered HTTP \(response.status.code) to the upload of \(name): try again later")
        }
        let files = String(decoding: (try? JSONEncoder().encode([Uploaded(id: target.fileId, title: name)])) ?? Data(),
                           as: UTF8.self)
        var arguments = [("files", files), ("channel_id", channel)]
        if let comment { arguments.append(("initial_comment", comment)) }
        _ = try await call("files.completeUploadExternal", arguments, as: SlackStatus.self)
    }

    /// A file's `url_private`, fetched with the bot token; `.tooLarge` past `limit` bytes, with
    /// no more than `limit` read.
    func download(_ file: ChatFile, limit: Int) async throws(ChatError) -> [UInt8] {
        let tooLarge = ChatError(.tooLarge, "the file \(file.name) is over the limit of \(limit) bytes")
        if let size = file.size, size > limit { throw tooLarge }
        guard carriesToken(to: file.url) else {
            throw ChatError(.unavailable, "\(file.url) is not a Slack file URL: the bot token goes to Slack only")
        }
        var request = HTTPClientRequest(url: file.url)
        request.headers.add(name: "Authorization", value: "Bearer \(configuration.botToken)")
        let response = try await send(request, what: "download of \(file.name)")
        switch response.status.code {
        case 200: break
        case 404: throw ChatError(.notFound, "Slack has no file \(file.name) (\(file.id)) any more")
        case 300..<400:
            // Slack sends a token it does not accept to its sign-in page.
            throw ChatError(.unavailable, "Slack would not give the file \(file.name) to the bot: give the app the "
                + "files:read scope (OAuth & Permissions) and reinstall it")
        default:
            throw ChatError(.unavailable, "Slack answered HTTP \(response.status.code) to the download of \(file.name)")
        }
        if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > limit { throw tooLarge }
        do {
            return Array(buffer: try await response.body.collect(upTo: limit))
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw ChatError(.unavailable, "the download of \(file.name) from Slack failed: \(error)")
        }
    }

    /// Whether `url` is Slack's (HTTPS on slack.com or a subdomain), or on the API's own host,
    /// scheme and port (a test's fake Slack): the bot token goes nowhere else.
    func carriesToken(to url: String) -> Bool {
        guard let target = URLComponents(string: url), let host = target.host?.lowercased() else { return false }
        if let api = URLComponents(string: configuration.apiURL), api.host?.lowercased() == host,
           api.scheme == target.scheme, api.port == target.port
        {
            return true
        }
        return target.scheme == "https" && (host == "slack.com" || host.hasSuffix(".slack.com"))
    }
}
