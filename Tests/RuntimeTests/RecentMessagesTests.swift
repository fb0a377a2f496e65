@testable import AutomatorRuntime
import Testing

@Suite("Recent messages: the last ones kept, for a command that answers one in its thread")
struct RecentMessagesTests {
    private static func message(_ number: Int, text: String = "") -> ChatMessage {
        ChatMessage(id: "1700000000.\(number)", channel: ChatChannel(id: "C1", name: "soc"),
                    user: ChatUser(id: "U1", name: "alice"), text: text.isEmpty ? "message \(number)" : text)
    }

    @Test("The last `capacity` messages are found, the older ones forgotten in the order they came")
    func lastOnes() {
        var recent = RecentMessages(capacity: 3)
        for number in 0..<7 { recent.remember(Self.message(number), network: "slack") }
        let found = (0..<7).map { recent.message("1700000000.\($0)", channel: "C1", network: "slack")?.text }
        #expect(found == [nil, nil, nil, nil, "message 4", "message 5", "message 6"])
        #expect(recent.message("1700000000.6", channel: "C1", network: "matrix") == nil, "by network")
    }

    @Test("A message remembered again (an edit) is replaced in place and takes no other's room")
    func rememberedAgain() {
        var recent = RecentMessages(capacity: 2)
        recent.remember(Self.message(1), network: "slack")
        recent.remember(Self.message(2), network: "slack")
        recent.remember(Self.message(1, text: "edited"), network: "slack")
        #expect(recent.message("1700000000.1", channel: "C1", network: "slack")?.text == "edited")
        #expect(recent.message("1700000000.2", channel: "C1", network: "slack")?.text == "message 2")
        recent.remember(Self.message(3), network: "slack")
        #expect(recent.message("1700000000.1", channel: "C1", network: "slack") == nil, "the oldest goes first")
        #expect(recent.message("1700000000.3", channel: "C1", network: "slack")?.text == "message 3")
    }
}
