/// The last messages, so that a command answering one in its thread (`!file`, `!evidence`)
/// finds it: the networks' events carry the thread's id, not the message's text and files.
struct RecentMessages {
    private let capacity: Int
    private var messages: [String: ChatMessage] = [:]
    private var order: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    mutating func remember(_ message: ChatMessage, network: String) {
        let key = Self.key(network, message.channel.id, message.id)
        if messages.updateValue(message, forKey: key) == nil { order.append(key) }
        if order.count > capacity { messages[order.removeFirst()] = nil }
    }

    func message(_ id: String, channel: String, network: String) -> ChatMessage? {
        messages[Self.key(network, channel, id)]
    }

    private static func key(_ network: String, _ channel: String, _ id: String) -> String {
        [network, channel, id].joined(separator: "\u{0}")
    }
}
