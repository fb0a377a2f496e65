import Foundation

/// The terminal as a chat network (`automator chat`), so the bot works with no chat server:
/// each line read is a message, in a direct conversation with the bot, or in a channel when it
/// starts with `#name `. `/file PATH` uploads a local file, and a command carries the files its
/// words name as paths (`!file /tmp/x`), as a command sent with attachments does in Slack. The
/// terminal has no threads: each line answers the channel's latest upload, as a reply in its
/// thread would (`/file PATH`, then `!evidence INC-3`). What the bot posts is written out, with
/// its channel, and a reply in a thread is indented.
///
/// A question's choices are listed; the next line in its channel answers it (a choice or its
/// number), as a reply in the question's thread would.
public final class ConsoleAdapter: ChatAdapter, @unchecked Sendable {
    public let network = "console"
    public let namesAreUnique = true
    public let me: ChatUser? = ChatUser(id: "automator", name: "automator")
    private let user: ChatUser
    private let lines: AsyncStream<String>
    private let write: @Sendable (String) -> Void
    /// Called after each line is delivered, before the next is read (`automator chat` waits
    /// there for the bot to finish answering when its input is not a terminal).
    private let afterEach: @Sendable () async -> Void
    private let lock = NSLock()
    private var counter = 0
    /// The last question posted in each channel, and its choices: the next line there that is
    /// one of them (or its number) answers it; another line leaves it open.
    private var openQuestions: [String: (id: String, choices: [String])] = [:]
    /// The latest upload in each channel, as a message of its own (no text, its files): what the
    /// lines after it answer, and what `message(_:in:)` gives the commands that act on it.
    private var uploads: [String: ChatMessage] = [:]

    public let isDefaultNetwork: Bool
    /// Whether lines may name local files to upload: not on a server, whose disk (its signing key,
    /// its configuration's secrets) is not an API client's to read through `!evidence`.
    private let readsLocalFiles: Bool
    /// The person at the terminal holds the data folder: what the CLI lets them do, so does `!`.
    public var commandsNeedRoles: Bool { false }
    public var channelsAreShared: Bool { false }

    /// - Parameters:
    ///   - isDefaultNetwork: false for the server's console, which answers only the investigation
    ///     REPL's commands (`ChatAdapter.isDefaultNetwork`).
    ///   - readsLocalFiles: false for the server's console: `/file PATH` and paths in commands are
    ///     then plain text.
    public init(user: String, lines: AsyncStream<String>, write: @escaping @Sendable (String) -> Void,
                afterEach: @escaping @Sendable () async -> Void = {}, isDefaultNetwork: Bool = true,
                readsLocalFiles: Bool = true)
    {
        self.user = ChatUser(id: user, name: user)
        self.lines = lines
        self.write = write
        self.afterEach = afterEach
        self.isDefaultNetwork = isDefaultNetwork
        self.readsLocalFiles = readsLocalFiles
    }

    private static let direct = ChatChannel(id: "@automator", name: "automator", isDirect: true)

    /// Delivers every line read until the input ends.
    public func run(delivering inbox: any ChatInbox) async throws {
        for await line in lines {
            guard let message = message(from: line, by: user) else { continue }
            await inbox.receive(message, from: self)
            await afterEach()
        }
    }

    /// Delivers one line as if it had been read (the REPL's `!` lines), from `user` if given;
    /// with `rolesApply`, its commands need their roles as in chat (`ChatMessage.rolesApply`).
    public func say(_ line: String, by user: String? = nil, rolesApply: Bool = false, to inbox: any ChatInbox) async {
        let speaker = user.map { ChatUser(id: $0, name: $0) } ?? self.user
        guard var message = message(from: line, by: speaker) else { return }
        if rolesApply { message.rolesApply = true }
        await inbox.receive(message, from: self)
    }

    func message(from line: String, by user: ChatUser) -> ChatMessage? {
        var text = Substring(line.trimmingCharacters(in: .whitespaces))
        guard !text.isEmpty else { return nil }
        var channel = Self.direct
        if text.hasPrefix("#") {
            let name = text.dropFirst().prefix { !$0.isWhitespace }
            guard !name.isEmpty else { return nil }
            channel = ChatChannel(id: "#" + name, name: String(name))
            text = text.dropFirst(name.count + 1).drop { $0.isWhitespace }
        }
        let files = readsLocalFiles ? Self.attachments(of: &text, in: channel, by: user) : []
        let answer = text.trimmingCharacters(in: .whitespaces)
        let addressed = channel.id != Self.direct.id
        let (id, replyTo) = lock.withLock { () -> (String, String?) in
            counter += 1
            let id = "m\(counter)"
            func takes(_ open: (id: String, choices: [String])) -> Bool {
                open.choices.enumerated().contains { number, choice in
                    choice.caseInsensitiveCompare(answer) == .orderedSame || answer == String(number + 1)
                }
            }
            // The question stays open here until another replaces it: an answer refused (a role it
            // needs) leaves it to someone else, and the bot says so to each.
            if let open = openQuestions[channel.id], takes(open) { return (id, open.id) }
            // A bare "1" answers the one question open elsewhere, as the prompt invites.
            if !addressed, files.isEmpty, openQuestions.count == 1, let (place, open) = openQuestions.first, takes(open) {
                channel = ChatChannel(id: place, name: String(place.dropFirst()))
                return (id, open.id)
            }
            guard files.isEmpty else {
                // Its own message, without the command's text: `!evidence` keeps the files, not `!file PATH`.
                uploads[channel.id] = ChatMessage(id: id + "-files", channel: channel, user: user, text: "", files: files)
                return (id, nil)
            }
            return (id, uploads[channel.id]?.id)
        }
        return ChatMessage(id: id, channel: channel, user: user, text: String(text), replyTo: replyTo, files: files)
    }

    /// The local files a line uploads: `/file PATH` (the line is then the upload alone), or the
    /// words of a command that are paths.
    private static func attachments(of text: inout Substring, in channel: ChatChannel, by user: ChatUser) -> [ChatFile] {
        if text.hasPrefix("/file ") {
            defer { text = "" }
            return [upload(text.dropFirst("/file ".count).trimmingCharacters(in: .whitespaces))]
        }
        guard ChatService.command(in: ChatMessage(id: "", channel: channel, user: user, text: String(text))) != nil
        else { return [] }
        return text.split(whereSeparator: \.isWhitespace).filter(isPath).map { upload(String($0)) }
    }

    /// A word of a command that names a local file: `/…`, `./…`, `../…` or `~/…`.
    private static func isPath(_ word: Substring) -> Bool {
        word.count > 1 && ["/", "./", "../", "~/"].contains { word.hasPrefix($0) }
    }

    /// A local file as an upload, which `download` reads.
    private static func upload(_ path: String) -> ChatFile {
        let path = NSString(string: path).expandingTildeInPath
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        return ChatFile(id: path, name: (path as NSString).lastPathComponent, size: size, url: "file://" + path)
    }

    /// The channel's latest upload, which the lines after it answer; an older one is forgotten.
    public func message(_ id: String, in channel: ChatChannel) async throws -> ChatMessage? {
        lock.withLock { uploads[channel.id].flatMap { $0.id == id ? $0 : nil } }
    }

    public func post(_ post: ChatPost) async throws -> ChatMessageRef {
        let id = lock.withLock { () -> String in
            counter += 1
            return "m\(counter)"
        }
        let place = post.channel == Self.direct.id ? "" : "[\(post.channel)] "
        let indent = post.thread == nil ? "" : "  ↳ "
        var text = post.mentions.map { $0 + " " }.joined() + post.text
        if let question = post.question {
            text += "\n" + question.choices.enumerated().map { "  \($0 + 1). \($1)" }.joined(separator: "\n")
                + "\n  (answer with the number or the choice)"
            lock.withLock { openQuestions[post.channel] = (id, question.choices) }
        }
        write(place + indent + text.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: place.count + indent.count)))
        return ChatMessageRef(channel: post.channel, id: id)
    }

    public func react(to message: ChatMessageRef, with emoji: String) async throws {
        // As a chat client shows it: the character, not Slack's name for it (`:rotating_light:`).
        write((message.channel == Self.direct.id ? "" : "[\(message.channel)] ") + "  " + ChatEmoji.character(emoji))
    }

    public func upload(to channel: String, name: String, data: [UInt8], comment: String?) async throws {
        write("[\(channel)] file \(name) (\(data.count.counted("byte")))" + (comment.map { ": \($0)" } ?? ""))
    }

    /// Every channel exists on the console: it is a name to write after `#`.
    public func channels() async throws -> [ChatChannel] { [] }

    public func channels(named nameOrID: String) async throws -> [ChatChannel] {
        if nameOrID == Self.direct.id { return [Self.direct] }
        let name = nameOrID.hasPrefix("#") ? String(nameOrID.dropFirst()) : nameOrID
        return name.isEmpty ? [] : [ChatChannel(id: "#" + name, name: name)]
    }

    public func user(_ id: String) async throws -> ChatUser? { ChatUser(id: id, name: id) }
    public func join(_ channel: ChatChannel) async throws {}
    public func leave(_ channel: ChatChannel) async throws {}

    /// Files are local paths (`/file PATH`, `!file PATH`).
    public func download(_ file: ChatFile, limit: Int) async throws -> [UInt8] {
        let path = file.url.hasPrefix("file://") ? String(file.url.dropFirst("file://".count)) : file.url
        // A folder opens, then fails to read with Foundation's "Code=256 (null)".
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw ChatError(.notFound, "\(path) is a folder, not a file: give the path of a file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ChatError(.notFound, "cannot read \(path): check the path and its permissions")
        }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: limit + 1) ?? Data() } catch {
            throw ChatError(.unavailable, "cannot read \(path): \(error.localizedDescription)")
        }
        guard data.count <= limit else { throw ChatError(.tooLarge, "\(path) is larger than \(limit) bytes") }
        return Array(data)
    }
}
