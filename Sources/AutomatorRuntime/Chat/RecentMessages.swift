/// The last messages, so that a command answering one in its thread (`!file`, `!evidence`)
/// finds it: the networks' events carry the thread's id, not the message's text and files.
struct RecentMessages {
    private let capacity: Int
    private var messages: [String: ChatMessage] = [:]
    /// The keys in the order they came, a ring: `oldest` is the next one to forget once it is
    /// full. (An array whose first is removed moved the other 2,000 keys for every message.)
    private var order: [String] = []
    private var oldest = 0

    init(capacity: Int) { self.capacity = capacity }

    mutating func remember(_ message: ChatMessage, network: String) {
        let key = Self.key(network, message.channel.id, message.id)
        guard messages.updateValue(message, forKey: key) == nil else { return }
        guard order.count == capacity else { return order.append(key) }
        messages[order[oldest]] = nil
        order[oldest] = key
        oldest = (oldest + 1) % capacity
    }

    func message(_ id: String, channel: String, network: String) -> ChatMessage? {
        messages[Self.key(network, channel, id)]
    }

    private static func key(_ network: String, _ channel: String, _ id: String) -> String {
        [network, channel, id].joined(separator: "\u{0}")
    }
}
