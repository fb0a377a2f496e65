import AutomatorRuntime
import Foundation
import Synchronization

/// A chat network held in memory for the bot's tests: it records what the bot posts, reacts and
/// joins, and serves the channels and files it is given. The network is not what these tests
/// test (the Slack and Matrix adapters have their own); the bot is.
final class ChatTestNetwork: ChatAdapter, Sendable {
    let network = "test"
    let namesAreUnique: Bool
    let me: ChatUser? = ChatUser(id: "UBOT", name: "automator")
    let known: Mutex<[ChatChannel]>
    let files: [String: [UInt8]]
    let posts = Mutex<[ChatPost]>([])
    let reactions = Mutex<[String]>([])
    let joined = Mutex<[String]>([])
    let uploads = Mutex<[(channel: String, name: String, bytes: Int)]>([])
    /// Messages the network gives when asked by id, as if another process had received them,
    /// and the ids asked.
    let history = Mutex<[String: ChatMessage]>([:])
    let asked = Mutex<[String]>([])
    private let counter = Mutex(0)
    /// While true, posts are not answered (a network that hangs): they wait, counted in `held`,
    /// and fail once it is false again.
    let holding = Mutex(false)
    let held = Mutex(0)
    /// The channels where the bot may not post, and why.
    let readOnly = Mutex<[String: String]>([:])
    /// How long each post takes to go through (a slow network), and how many are on their way.
    let slowness = Mutex(Duration.zero)
    let onTheirWay = Mutex(0)

    init(channels: [ChatChannel] = [ChatChannel(id: "C1", name: "soc"), ChatChannel(id: "C2", name: "ir")],
         files: [String: [UInt8]] = [:], namesAreUnique: Bool = true)
    {
        known = Mutex(channels)
        self.files = files
        self.namesAreUnique = namesAreUnique
    }

    func run(delivering inbox: any ChatInbox) async throws {}

    func post(_ post: ChatPost) async throws -> ChatMessageRef {
        if holding.withLock({ $0 }) {
            held.withLock { $0 += 1 }
            while holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            throw ChatError(.unavailable, "the test network did not answer")
        }
        let slowness = slowness.withLock { $0 }
        if slowness > .zero {
            onTheirWay.withLock { $0 += 1 }
            try await Task.sleep(for: slowness)
            onTheirWay.withLock { $0 -= 1 }
        }
        posts.withLock { $0.append(post) }
        let number = counter.withLock { count in
            count += 1
            return count
        }
        return ChatMessageRef(channel: post.channel, id: "p\(number)")
    }

    func react(to message: ChatMessageRef, with emoji: String) async throws {
        reactions.withLock { $0.append("\(message.id):\(emoji)") }
    }

    func upload(to channel: String, name: String, data: [UInt8], comment: String?) async throws {
        uploads.withLock { $0.append((channel, name, data.count)) }
    }
    func channels() async throws -> [ChatChannel] { known.withLock { $0 } }
    func channels(named nameOrID: String) async throws -> [ChatChannel] {
        nameOrID == "D1" ? [Self.direct] : known.withLock { $0.filter { $0.id == nameOrID || $0.name == nameOrID } }
    }
    func user(_ id: String) async throws -> ChatUser? { ChatUser(id: id, name: id) }
    func join(_ channel: ChatChannel) async throws { joined.withLock { $0.append(channel.name) } }
    func leave(_ channel: ChatChannel) async throws { joined.withLock { $0.removeAll { $0 == channel.name } } }
    func postingRefusal(in channel: ChatChannel) async throws -> String? { readOnly.withLock { $0[channel.id] } }

    func download(_ file: ChatFile, limit: Int) async throws -> [UInt8] {
        guard let bytes = files[file.url] else { throw ChatError(.notFound, "no file \(file.url)") }
        return bytes
    }

    func message(_ id: String, in channel: ChatChannel) async throws -> ChatMessage? {
        asked.withLock { $0.append(id) }
        return history.withLock { $0[id] }.flatMap { $0.channel.id == channel.id ? $0 : nil }
    }

    static let direct = ChatChannel(id: "D1", name: "alice", isDirect: true)

    /// The texts posted so far, and forgets them.
    func takePosts() -> [ChatPost] {
        posts.withLock { posts in
            defer { posts = [] }
            return posts
        }
    }
}
