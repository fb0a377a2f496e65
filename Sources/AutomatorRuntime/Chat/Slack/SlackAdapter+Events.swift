import Foundation
import Logging
import Synchronization

extension SlackAdapter {
    /// `POST /slack/events`: checks the signature (401), answers the `url_verification`
    /// challenge, and takes an `event_callback` at once (200), delivering its message to `inbox`
    /// afterwards, with the channel's and the user's names looked up. A body that is not the
    /// Events API's is a 400, and nothing is delivered.
    ///
    /// Delivered: people's messages in channels, private channels and direct conversations,
    /// with their files and threads, their edits, and mentions of the bot. Not: the bot's own
    /// messages, other bots', deletions, joins. Slack's retries and the `app_mention` twin of a
    /// message are delivered once.
    ///
    /// - Parameter executor: where the delivery resumes after it suspends (the store's commit of
    ///   the run): the server's event loop that read the request, so that no thread of Swift's
    ///   pool is woken between the commit and the 200. Swift's pool when nil.
    package func handleEvents(_ request: SlackHTTPRequest, delivering inbox: any ChatInbox,
                              resumingOn executor: (any TaskExecutor)? = nil) async -> SlackHTTPResponse
    {
        if let refusal = refusal(of: request) { return refusal }
        let envelope: SlackEventEnvelope
        do { envelope = try Self.decoder.decode(SlackEventEnvelope.self, from: Data(request.body)) } catch {
            return .badRequest("not a request of Slack's Events API: \(error)")
        }
        switch envelope.type {
        case "url_verification":
            guard let challenge = envelope.challenge else { return .badRequest("url_verification without a challenge") }
            return .json(#"{"challenge":\#(JSONText.string(challenge))}"#)
        case "event_callback":
            guard envelope.event != nil else { return .badRequest("event_callback without an event") }
            guard me != nil else { return .notConnected }
            if let retry = request.retry { logger.debug("slack: retry \(retry) of event \(envelope.eventId ?? "?")") }
            await take(envelope, delivering: inbox, resumingOn: executor)
            return .ok
        default:
            return .ok
        }
    }

    /// Hands the message of an `event_callback` to `inbox` (`handOver`), unless it is not one
    /// the bot reads or it was delivered already (Slack's retries, a mention's two events);
    /// returns once the bot has it, or at the deadline. Over HTTP and over Socket Mode alike.
    func take(_ envelope: SlackEventEnvelope, delivering inbox: any ChatInbox,
              resumingOn executor: (any TaskExecutor)? = nil) async
    {
        guard let bot = me?.id, let incoming = envelope.event?.incoming(bot: bot) else { return }
        let first = state.withLock { state in
            let newEvent = envelope.eventId.map { state.events.insert($0) } ?? true
            return newEvent && state.messages.insert(incoming.key)
        }
        if first { await handOver(resumingOn: executor) { await self.deliver(incoming, to: inbox) } }
    }

    /// Nil if the request is signed by Slack, recently; the 401 otherwise (logged, a line a minute
    /// at most). Without a signing secret (a bot on Socket Mode alone) every request is refused.
    func refusal(of request: SlackHTTPRequest) -> SlackHTTPResponse? {
        guard let secret = configuration.signingSecret else {
            refusals.note("""
                slack: this bot takes Slack's events over Socket Mode (chat.slack.app_token); set \
                chat.slack.signing_secret to take them over HTTP
                """, request: request.request, from: request.peer)
            return .unauthorized
        }
        do throws(SlackSignature.Refusal) {
            try SlackSignature.verify(body: request.body, timestamp: request.timestamp, signature: request.signature,
                                      secret: secret)
            return nil
        } catch {
            refusals.note("slack: \(error)", request: request.request, from: request.peer)
            return .unauthorized
        }
    }

    /// One for every event and every answer of the Web API (a decoder reads its options under its
    /// lock, so threads may share it).
    static let decoder = JSONDecoder()

    /// Runs `delivery` in a task of its own and waits for it, `answerWithin` at the longest:
    /// Slack's 200 goes out once the bot has the message (its run is stored: a crash after the
    /// 200 loses nothing), or at the deadline if the bot is slow (Slack wants its answer within
    /// 3 seconds, and retries after that), while the delivery goes on.
    ///
    /// The delivery starts on this thread, up to its first suspension, and the deadline joins the
    /// adapter's queue of them (`SlackDeadlines`, one timer for all): a task less, no hop and no
    /// timer of its own for each event. After its first suspension it runs on `executor` (Swift's
    /// pool when nil): an unstructured task does not inherit its caller's preference.
    func handOver(resumingOn executor: (any TaskExecutor)? = nil, _ delivery: @escaping @Sendable () async -> Void)
        async
    {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let answer = SlackDeadlines.Answer(continuation)
            deadlines.add(answer)
            Task.immediate(executorPreference: executor) {
                await delivery()
                answer.give()
            }
        }
    }

    /// Looks the names up and hands the message to the bot.
    private func deliver(_ incoming: SlackIncoming, to inbox: any ChatInbox) async {
        await inbox.receive(await chatMessage(incoming), from: self)
    }

    /// A message asked of the Web API, as it would have been delivered (so not one of a bot's).
    public func message(_ id: String, in channel: ChatChannel) async throws -> ChatMessage? {
        guard let bot = me?.id, var event = try await api.message(id, in: channel.id) else { return nil }
        event.channel = channel.id
        guard let incoming = event.incoming(bot: bot) else { return nil }
        return await chatMessage(incoming, in: channel)
    }

    /// The message with its user's and channel's names (unless its channel is known), and its
    /// files described.
    private func chatMessage(_ incoming: SlackIncoming, in known: ChatChannel? = nil) async -> ChatMessage {
        let user = await directory.userOrID(incoming.user)
        let channel = if let known {
            known
        } else if incoming.isDirect {
            ChatChannel(id: incoming.channel, name: user.name, isDirect: true)
        } else {
            await directory.channelOrID(incoming.channel)
        }
        var files = [ChatFile]()
        for file in incoming.files {
            if let ready = file.chatFile {
                files.append(ready)
            } else {
                do {
                    if let described = try await api.file(file.id).chatFile { files.append(described) }
                } catch {
                    logger.warning("slack: file \(file.id) of message \(incoming.ts) left out: \(error)")
                }
            }
        }
        return ChatMessage(id: incoming.ts, channel: channel, user: user, text: incoming.text,
                           thread: incoming.thread, replyTo: incoming.thread, files: files,
                           edit: incoming.edit.map { ChatEdit(previousText: $0.previousText) },
                           at: Date(timeIntervalSince1970: TimeInterval(incoming.edit?.at ?? incoming.ts)
                               ?? Date().timeIntervalSince1970))
    }
}
