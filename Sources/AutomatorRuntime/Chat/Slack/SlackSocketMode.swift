import Foundation
import Logging

/// Slack's Socket Mode: the bot opens a WebSocket (`apps.connections.open` with the app-level
/// token) and Slack sends its events and interactions over it, wrapped in envelopes, so that a
/// bot behind a firewall needs no address Slack can reach. Each envelope is acknowledged
/// (`{"envelope_id": …}`) once the bot has its message, as the Events API's 200 is (`handOver`):
/// Slack sends an envelope again when its acknowledgement is late, and the retry is delivered
/// once (by `event_id`, as over HTTP).
extension SlackAdapter {
    /// Receives over Socket Mode until cancelled, a connection at a time: a new one when Slack
    /// asks for it (`disconnect`) or the connection drops, sooner or later after failures.
    ///
    /// - Throws: `.unauthorized` when Slack refuses the app token.
    func receiveOverSocket(appToken: String, delivering inbox: any ChatInbox) async throws(ChatError) {
        var failures = 0
        while !Task.isCancelled {
            let started = ContinuousClock.now
            var refreshed = false
            do throws(ChatError) {
                let url = try await api.openConnection(appToken: appToken)
                refreshed = try await receive(over: url, delivering: inbox)
            } catch where error.kind == .unauthorized {
                throw error
            } catch {
                if Task.isCancelled { return }
                logger.warning("slack: socket mode: \(error.description)")
            }
            // Replaced at once when Slack asked, or after serving a while; one that fails at once
            // waits longer each time, up to 30 s, rather than hammering Slack.
            failures = refreshed || ContinuousClock.now - started > .seconds(10) ? 0 : failures + 1
            guard failures > 0 else { continue }
            let pause = Duration.seconds(min(30, 1 << min(failures - 1, 5)))
            logger.info("slack: socket mode: connecting again in \(pause)")
            try? await Task.sleep(for: pause)
        }
    }

    /// One connection: its envelopes until Slack closes it, or asks for another (true).
    private func receive(over url: String, delivering inbox: any ChatInbox) async throws(ChatError) -> Bool {
        guard let address = URL(string: url) else {
            throw ChatError(.unavailable, "apps.connections.open answered a URL that is not one: \(url)")
        }
        let socket = try await SlackWebSocket.connect(to: address)
        do {
            return try await socket.session { text, sender in self.take(text, answering: sender, delivering: inbox) }
        } catch {
            throw ChatError(.unavailable, "the Socket Mode connection failed: \(error)")
        }
    }

    /// Handles one message of Slack's; false when Slack asks for a new connection.
    private func take(_ text: String, answering sender: SlackWebSocket.Sender, delivering inbox: any ChatInbox) -> Bool {
        let bytes = Data(text.utf8)
        guard let envelope = try? Self.envelopeDecoder.decode(SocketEnvelope.self, from: bytes) else {
            logger.warning("slack: socket mode: ignored a message that is not Slack's: \(text.prefix(200))")
            return true
        }
        switch envelope.type {
        case "hello":
            logger.info("slack: socket mode connected")
        case "disconnect":
            logger.info("slack: socket mode: Slack asks for a new connection (\(envelope.reason ?? "no reason"))")
            return false
        default:
            guard let id = envelope.id else { return true }
            if let retry = envelope.retry, retry > 0 { logger.debug("slack: retry \(retry) of envelope \(id)") }
            let acknowledgement = #"{"envelope_id":\#(JSONText.string(id))}"#
            Task.immediate { [self] in
                switch envelope.type {
                case "events_api":
                    if let callback = Self.payload(SlackEventEnvelope.self, of: bytes), callback.type == "event_callback" {
                        await take(callback, delivering: inbox)
                    } else {
                        logger.warning("slack: socket mode: envelope \(id) carries no event the bot reads")
                    }
                case "interactive":
                    if let interaction = Self.payload(SlackInteraction.self, of: bytes) {
                        await take(interaction, delivering: inbox)
                    } else {
                        logger.warning("slack: socket mode: envelope \(id) carries no interaction the bot reads")
                    }
                case "slash_commands":
                    if let command = Self.payload(SlackCommand.self, of: bytes) {
                        await take(command, delivering: inbox)
                    } else {
                        logger.warning("slack: socket mode: envelope \(id) carries no slash command the bot reads")
                    }
                default:
                    break  // shortcuts and the like: acknowledged, so that Slack does not send them again
                }
                await sender.send(acknowledgement)
            }
        }
        return true
    }

    /// The envelope's `payload` as `Payload`, decoded as the Events API's bodies are.
    private static func payload<Payload: Decodable>(_: Payload.Type, of envelope: Data) -> Payload? {
        try? decoder.decode(SocketPayload<Payload>.self, from: envelope).payload
    }

    /// Its keys as Slack spells them, whatever `decoder` does with the payload's.
    private static let envelopeDecoder = JSONDecoder()
}

/// What every Socket Mode message has: its type (`hello`, `events_api`, `interactive`,
/// `disconnect`, …), the id to acknowledge it by, and for a `disconnect` why.
private struct SocketEnvelope: Decodable {
    var type: String
    var id: String?
    var retry: Int?
    var reason: String?

    enum CodingKeys: String, CodingKey {
        case type, reason
        case id = "envelope_id"
        case retry = "retry_attempt"
    }
}

/// An envelope's `payload`, which is what an HTTP request's body would have been.
private struct SocketPayload<Payload: Decodable>: Decodable {
    var payload: Payload
}
