import Foundation
import Logging

extension SlackAdapter {
    /// `POST /slack/interactions`: a click on a question's button (`block_actions`), as
    /// `payload=JSON` in a form body. Checks the signature (401), delivers the `ChatAnswer` to
    /// `inbox` and answers 200 once it is recorded (or at the deadline: `handOver`); other
    /// interactions are ignored, a body that is not one is a 400.
    package func handleInteraction(_ request: SlackHTTPRequest, delivering inbox: any ChatInbox) async
        -> SlackHTTPResponse
    {
        if let refusal = refusal(of: request) { return refusal }
        guard let payload = Self.formFields(in: request.body)["payload"] else {
            return .badRequest("an interaction is a form with a payload field")
        }
        let interaction: SlackInteraction
        do { interaction = try Self.decoder.decode(SlackInteraction.self, from: Data(payload.utf8)) } catch {
            return .badRequest("the payload is not a Slack interaction: \(error)")
        }
        guard interaction.type == "block_actions" else { return .ok }
        guard interaction.channel?.id ?? interaction.container?.channelId != nil else {
            return .badRequest("block_actions without a channel")
        }
        await take(interaction, delivering: inbox)
        return .ok
    }

    /// Delivers the answers a `block_actions` interaction carries (`handOver`); other
    /// interactions, and clicks on other apps' buttons, are left. Over HTTP and over Socket Mode.
    func take(_ interaction: SlackInteraction, delivering inbox: any ChatInbox) async {
        guard interaction.type == "block_actions",
              let channel = interaction.channel?.id ?? interaction.container?.channelId
        else { return }
        let message = (interaction.container?.messageTs).map { ChatMessageRef(channel: channel, id: $0) }
        for action in interaction.actions ?? [] {
            guard let (question, choice) = SlackQuestionBlocks.answer(actionID: action.actionId, value: action.value)
            else { continue }
            await handOver { [self] in
                let answer = ChatAnswer(question: question, choice: choice,
                                        user: await directory.userOrID(interaction.user.id),
                                        channel: await directory.channelOrID(channel), message: message)
                await inbox.receive(answer, from: self)
            }
        }
    }
}

/// A `block_actions` payload, what the adapter reads of it.
struct SlackInteraction: Decodable, Sendable {
    struct Reference: Decodable, Sendable { var id: String }
    struct Container: Decodable, Sendable {
        var messageTs: String?
        var channelId: String?

        private enum CodingKeys: String, CodingKey { case messageTs = "message_ts", channelId = "channel_id" }
    }
    struct Action: Decodable, Sendable {
        var actionId: String
        var value: String?

        private enum CodingKeys: String, CodingKey { case actionId = "action_id", value }
    }

    var type: String
    var user: Reference
    var channel: Reference?
    var container: Container?
    var actions: [Action]?
}
