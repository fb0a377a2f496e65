@testable import AutomatorRuntime
import Foundation
import Logging
import TestSupport
import Testing

/// A slash command's conversation is kept in the store: the worker that answers it may be this
/// one after a restart, or another of a shared store behind the same load balancer.
@Suite("Slash commands' conversations in the store: answered after a restart and by another worker",
       .timeLimit(.minutes(2)))
struct SlashConversationTests {
    static let form = "application/x-www-form-urlencoded"

    /// Types `/automator TEXT` to `slack`'s server, its answers going to the fake's `response_url` `id`;
    /// returns the conversation it was delivered in.
    static func command(_ text: String, answeredAt id: String, to slack: SlackHarness) async throws -> ChatChannel {
        let answer = try await slack.post("/slack/commands", SlackEventsTests.command(text, responseURL: slack.fake.responseURL(id)),
                                          contentType: form)
        #expect(answer.status == 200 && answer.body.isEmpty)
        return try #require(try await slack.inbox.messages(count: 1).last).channel
    }

    @Test("Kept with its channel's name and response_url, read while Slack takes answers, swept after",
          arguments: StoreUnderTest.allCases)
    func kept(_ kind: StoreUnderTest) async throws {
        let open = try await kind.opener()
        let store = try #require(try await open() as? any ChatStore)
        let now = IncidentStoreConformance.time(0)
        let lifetime = ChatCommandConversation.lifetime
        let recent = ChatCommandConversation(network: "slack", id: "slash:1", name: "soc",
                                             responseURL: "https://hooks.slack.com/commands/T0/1/a", openedAt: now - 60)
        let old = ChatCommandConversation(network: "slack", id: "slash:2", name: "soc",
                                          responseURL: "https://hooks.slack.com/commands/T0/2/b", openedAt: now - lifetime - 1)
        try await store.openCommandConversation(recent)
        try await store.openCommandConversation(old)
        var again = recent
        again.responseURL = "https://hooks.slack.com/commands/T0/1/forged"
        try await store.openCommandConversation(again)
        #expect(try await store.commandConversation(network: "slack", id: "slash:1", openedSince: now - lifetime) == recent,
                "the first is kept")
        #expect(try await store.commandConversation(network: "matrix", id: "slash:1", openedSince: now - lifetime) == nil)
        #expect(try await store.commandConversation(network: "slack", id: "slash:2", openedSince: now - lifetime) == nil,
                "Slack takes no more answers")

        let sweeper = ChatSweeper(runs: store, chat: store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        #expect(await sweeper.sweep(now: now).commandConversations == 1)
        #expect(try await store.commandConversation(network: "slack", id: "slash:2", openedSince: .distantPast) == nil)
        #expect(try await store.commandConversation(network: "slack", id: "slash:1", openedSince: .distantPast) == recent)
        await store.close()
    }

    @Test("SQLite: a server restarted after taking a command answers it")
    func restart() async throws {
        let open = try await StoreUnderTest.sqlite.opener()
        let before = try #require(try await open() as? any ChatStore)
        let first = try await SlackHarness(conversations: before)
        let conversation = try await Self.command("ip 203.0.113.7", answeredAt: "c1", to: first)
        await before.close()

        let after = try #require(try await open() as? any ChatStore)
        let restarted = try await SlackHarness(fake: first.fake, conversations: after)
        #expect(try await restarted.adapter.channels(named: conversation.id) == [conversation])
        _ = try await restarted.adapter.post(ChatPost(channel: conversation.id, text: "203.0.113.7: malicious"))
        #expect(first.fake.commandAnswers.map(\.command) == ["c1"])
        #expect(first.fake.commandAnswers.first?.fields["text"] == "203.0.113.7: malicious")
        await after.close()
    }

    @Test("PostgreSQL: a command taken by one worker is answered by another")
    func anotherWorker() async throws {
        let open = try await StoreUnderTest.postgres.opener()
        let (one, two) = (try #require(try await open() as? any ChatStore), try #require(try await open() as? any ChatStore))
        let taker = try await SlackHarness(conversations: one)
        let other = try await SlackHarness(fake: taker.fake, conversations: two)
        let conversation = try await Self.command("ip 203.0.113.7", answeredAt: "c1", to: taker)
        #expect(try await other.adapter.channels(named: conversation.id) == [conversation])
        _ = try await other.adapter.post(ChatPost(channel: conversation.id, text: "203.0.113.7: malicious"))
        #expect(taker.fake.commandAnswers.map(\.command) == ["c1"])
        await one.close()
        await two.close()
    }

    @Test("Past Slack's half hour, an answer says to ask again; a store that cannot keep it tells the person")
    func expiredAndUnkept() async throws {
        let open = try await StoreUnderTest.sqlite.opener()
        let store = try #require(try await open() as? any ChatStore)
        let slack = try await SlackHarness(conversations: store)
        try await store.openCommandConversation(ChatCommandConversation(
            network: "slack", id: "slash:9", name: "soc", responseURL: slack.fake.responseURL("c9"),
            openedAt: Date() - ChatCommandConversation.lifetime - 1))
        let late = await #expect(throws: ChatError.self) {
            try await slack.adapter.post(ChatPost(channel: "slash:9", text: "too late"))
        }
        #expect(late?.kind == .notFound && late?.description.contains("ask again") == true)
        #expect(slack.fake.commandAnswers.isEmpty)

        await store.close()
        let answer = try await slack.post("/slack/commands", SlackEventsTests.command("ip 203.0.113.7",
                                                                                       responseURL: slack.fake.responseURL("c2")),
                                          contentType: Self.form)
        #expect(answer.status == 200 && answer.body.contains("try again"), "\(answer.body)")
        #expect(slack.inbox.messages.isEmpty, "nothing is delivered that no worker could answer")
    }
}
