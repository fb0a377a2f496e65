import Foundation
import Logging

/// `chat.ask` and `chat.approve`: a question kept in the store, posted with its choices, and the
/// run waiting until someone allowed to answers (a button, or a reply in the question's thread).
extension ChatService {
    /// Records and posts a question; returns its id, which `waitForAnswer` takes.
    ///
    /// A question that cannot be posted (no chat network is configured, the network is down, the
    /// channel is gone) is kept all the same, and the run waits on it: someone answers it through
    /// the API or `automator question answer`, and the incident's journal says so. Failing the
    /// run instead would lose a playbook's progress to a chat outage.
    ///
    /// - Parameters:
    ///   - roles: who may answer; none for anyone, but for an approval (choices exactly approve and
    ///     deny) the role `approver`, whether or not the configuration names someone for it
    ///     (`ChatQuestionRecord.answerable`, `UnassignedRole`).
    ///   - incident: the incident it is asked for, when the run has none of its own (a war room's
    ///     `!action`); else the run's. Its journal tells the question and its answer.
    func ask(_ text: String, choices: [String], roles: [String], in channel: String,
             on network: String?, run: RunID?, incident: IncidentID? = nil) async throws -> String
    {
        // A network the playbook names must exist: that is a mistake in it, not an outage.
        let adapter: (any ChatAdapter)? = network == nil ? try? adapter(nil) : try adapter(network)
        let id = "Q-" + UUID().uuidString.prefix(8).lowercased()
        var question = ChatQuestionRecord(id: id, runID: run, network: adapter?.network ?? "", channel: channel,
                                          message: nil, text: text, choices: choices, roles: roles)
        var target: ChatChannel?
        var unposted = "no chat network is configured"
        if let adapter {
            do { target = try await resolve(channel, on: adapter) } catch { unposted = "\(error)" }
        }
        if let target { question.channel = target.id }
        var incident = incident
        if let incident, try await store.loadIncident(incident) == nil { throw StoreError.incidentNotFound(incident) }
        if incident == nil, let run { incident = try? await store.loadRun(run)?.incident }
        question.incident = incident
        // Kept before it is posted: an answer may come as soon as it is.
        try await store.write(.askQuestion(question))

        func journal(_ line: String) -> [StoreWrite] {
            incident.map { [.appendJournal([JournalEntry(incident: $0, at: Date(), actor: "automator", kind: .approval,
                                                         text: line)])] } ?? []
        }
        let asked = question.asked(in: channel)
        if let adapter, let target {
            let who = question.whoMayAnswer(roles: self.roles, atTerminal: !adapter.commandsNeedRoles)
            do {
                let posted = try await adapter.post(ChatPost(channel: target.id, text: text + who,
                                                             question: ChatQuestion(id: id, choices: choices)))
                try await store.write(.all([.questionPosted(id: id, message: posted.id)] + journal(asked + who)))
                return id
            } catch let error as StoreError {
                throw error
            } catch {
                unposted = "\(error)"
            }
        }
        let answerIt = "answer it with automator question answer \(id) CHOICE, or POST /api/v1/questions/\(id)/answer"
        if let unsaid = unpostedWarnings.withLock({ $0.say(channel: channel, reason: unposted) }) {
            let since = unsaid == 0 ? "" : "; \(unsaid) more were not posted there since the last warning"
            logger.warning("""
                chat: question \(id) was not posted in \(channel) (\(unposted)): \(answerIt)\(since) \
                (said again when the reason changes, or in an hour with a count; `automator question list` shows them all)
                """)
        }
        let kept = journal("\(asked); not posted (\(unposted)): \(answerIt)")
        if !kept.isEmpty { try await store.write(.all(kept)) }
        return id
    }

    /// The answer recorded for a question nobody answered within its timeout.
    static let timedOut = "timeout"

    /// Calls `complete` with the answer and who gave it, once the question is answered: at once
    /// if it is already (answered while the run was down), or when someone answers. With a
    /// `timeout` (seconds from when it was asked, so a restart does not start it again), a
    /// question still open then is answered `timeout` by `automator`, and takes no answer after.
    /// A store away when the question is read delays it (`readWaiting`); only a question that is
    /// not there, or cannot be read for another reason, fails the run.
    func waitForAnswer(_ id: String, run: RunID?, timeout: TimeInterval? = nil,
                       _ complete: @escaping @Sendable (Result<[LuaValue], HostError>) -> Void)
    {
        if let run { inFlight.withLock { _ = $0.asking.insert(run) } }
        let complete: @Sendable (Result<[LuaValue], HostError>) -> Void = { [inFlight] result in
            if let run { inFlight.withLock { _ = $0.asking.remove(run) } }
            complete(result)
        }
        answerWaiters.withLock { $0[id, default: []].append(complete) }
        // Registered first, then read: an answer recorded before the read is seen by it, one
        // recorded after finds the waiter.
        let token = UUID()
        questionTimers.withLock { timers in
            timers[token] = Task { [self] in
                defer { questionTimers.withLock { _ = $0.removeValue(forKey: token) } }
                do {
                    guard let question = try await readWaiting(id) else {
                        resolve(id, .failure(HostError("there is no question \(id)")))
                        return
                    }
                    if let answer = question.answer {
                        resolve(id, .success(Self.results(answer, question.answeredBy)))
                        return
                    }
                    guard let timeout else { return }
                    let deadline = question.askedAt.addingTimeInterval(timeout)
                    let left = deadline.timeIntervalSinceNow
                    if left > 0 { try await Task.sleep(for: .milliseconds(Int64(left * 1000))) }
                    try await answerTimeout(question, deadline: deadline)
                } catch is CancellationError {
                    return
                } catch {
                    resolve(id, .failure(HostError("question \(id) could not be read: \(error)")))
                }
            }
        }
    }

    /// The question `id`, read again while the store is away (a lock held past its wait, a full
    /// disk, PostgreSQL down) every few seconds (`Backoff.storeWrites`), said once in the log and
    /// again when it is read: an outage delays the question, it does not end its run.
    ///
    /// - Throws: `CancellationError` when the service stops; the store's error when it is closed,
    ///   or when the question cannot be read for another reason (a value this version does not know).
    private func readWaiting(_ id: String) async throws -> ChatQuestionRecord? {
        var backoff = Backoff.storeWrites
        var failed = false
        while true {
            let failure: StoreError
            do {
                let question = try await store.question(id)
                if failed { logger.notice("chat: question \(id) is read, the store answers again; its run waits for its answer") }
                return question
            } catch { failure = error }
            guard [.unavailable, .diskFull, .readOnly].contains(failure.kind) else { throw failure }
            if !failed {
                logger.error("""
                    chat: question \(id) could not be read: \(failure); its run waits until it is. Trying again every few \
                    seconds (the log says when it is)
                    """)
                failed = true
            }
            try await Task.sleep(for: backoff.next())
        }
    }

    /// Answers `timeout` for a question still open at its deadline, and resumes the runs waiting.
    ///
    /// The store refuses it whole when someone answered meanwhile, whose answer resumed them (or
    /// when it timed out before a restart): so its journal entry is written once, with the answer.
    /// The answer stored is handed on then, which changes nothing for a run resumed already
    /// (`resolve` gives each waiter one result), and resumes one whose earlier try was kept though
    /// the store said it failed (a connection lost at the commit). Any other failure (a full disk,
    /// a lock held too long, a database away) is logged once and the write tried again
    /// (`Backoff.storeWrites`) until it is kept, or the store is closed, or a stop cancels it: it
    /// was dropped, and the run waited for good.
    ///
    /// - Throws: `CancellationError` when the service stops.
    private func answerTimeout(_ question: ChatQuestionRecord, deadline: Date) async throws {
        let id = question.id
        var backoff = Backoff.storeWrites
        var failed = false
        while true {
            let failure: StoreError
            do {
                try await store.write(timeOut(question, deadline: deadline))
                if failed { logger.notice("chat: question \(id) is answered timeout, the store took it; its run goes on") }
                resolve(id, .success(Self.results(Self.timedOut, "automator")))
                return
            } catch where error.kind == .conflict {
                do {
                    if let answered = try await store.question(id), let answer = answered.answer {
                        resolve(id, .success(Self.results(answer, answered.answeredBy)))
                    }
                    return
                } catch { failure = error }
            } catch { failure = error }
            if failure.kind == .closed { return }
            if !failed {
                logger.error("""
                    chat: question \(id) timed out, but its answer timeout could not be recorded: \(failure); its run \
                    waits until it is. Trying again every few seconds (the log says when it is)
                    """)
                failed = true
            }
            try await Task.sleep(for: backoff.next())
        }
    }

    /// Takes a reply in a question's thread (or a reply to it) that is one of its choices, or
    /// its number, as its answer, and returns true. Any other message there is the channel's,
    /// as anywhere in it (journaled in a war room, checked where watched): people discuss a
    /// question in its thread. One word that is no choice was meant as an answer, though, and
    /// is told the choices. A choice given once the question is answered is told the answer,
    /// which stands: whoever said "deny" after an "approve" must not think they stopped it.
    func answered(by message: ChatMessage, on adapter: any ChatAdapter) async -> Bool {
        guard let root = message.thread ?? message.replyTo,
              let question = try? await store.question(network: adapter.network, channel: message.channel.id,
                                                       message: root)
        else { return false }
        let text = message.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let choice = question.choice(matching: text)
            ?? Int(text).flatMap { question.choices.indices.contains($0 - 1) ? question.choices[$0 - 1] : nil }
        guard let choice else {
            let oneWord = !text.isEmpty && !text.contains(where: \.isWhitespace) && !text.hasPrefix("!")
            if question.answer == nil, message.thread != nil, oneWord, message.files.isEmpty,
               Extractor.extract(Array(text.utf8)).isEmpty
            {
                await post("Answer with one of: " + question.choices.enumerated().map { "\($0 + 1). \($1)" }
                    .joined(separator: ", "), in: message.channel.id, thread: root, on: adapter)
            }
            return false
        }
        guard question.answer == nil else {
            await post(Self.closed(question, on: adapter), in: question.channel, thread: root, on: adapter)
            return true
        }
        await record(choice, to: question, by: message.user, rolesApply: Self.rolesApply(to: message, on: adapter),
                     on: adapter)
        return true
    }

    /// What a choice given too late is told: the answer that stands, by whom and when.
    static func closed(_ question: ChatQuestionRecord, on adapter: any ChatAdapter) -> String {
        guard let answer = question.answer, answer != ChatQuestionRecord.cancelled else {
            return "Nobody waits for this answer any more: its run was stopped, or its incident closed."
        }
        // Who, as this network names them (`alice`), or as the CLI or the API did (`api:alice`).
        let network = adapter.network + ":"
        let by = question.answeredBy.map { $0.hasPrefix(network) ? String($0.dropFirst(network.count)) : $0 }
        let at = question.answeredAt?.formatted(.iso8601.time(includingFractionalSeconds: false))
        return "Already answered: \(answer)" + (by.map { ", by \($0)" } ?? "") + (at.map { " at \($0) UTC" } ?? "")
            + ". That answer stands; yours changes nothing."
    }

    /// Records an answer from someone allowed to give it, resumes the runs waiting, and says who
    /// answered in the question's thread. Someone else is told, and the incident's journal keeps
    /// the attempt, as for a refused command.
    ///
    /// - Parameter rolesApply: false for the operator at a terminal (`rolesApply(to:on:)`), who
    ///   answers a question whose roles no one holds (`UnassignedRole`).
    func record(_ choice: String, to question: ChatQuestionRecord, by user: ChatUser, rolesApply: Bool,
                on adapter: any ChatAdapter) async
    {
        let by = Self.actor(user, on: adapter)
        let unassigned = UnassignedRole.none(of: question.roles, in: self.roles)
        guard allowed(user, roles: question.roles, on: adapter) || (unassigned && !rolesApply) else {
            let roles = question.roles.joined(separator: " or ")
            let refusal = unassigned
                ? UnassignedRole.refusal(question.roles, meanwhile: UnassignedRole.operatorAnswers(question))
                : "only people with the role \(roles) may answer this"
            await post("\(Self.who(user, on: adapter)), \(refusal).",
                       in: question.channel, thread: question.message, on: adapter)
            await journalRefusal(of: choice, to: question, by: by)
            return
        }
        do { try await keep(choice, to: question, by: by) } catch {
            // Someone answered first, a moment before (or through another worker).
            if error.kind == .conflict, let answered = try? await store.question(question.id) {
                await post(Self.closed(answered, on: adapter), in: question.channel, thread: question.message,
                           on: adapter)
            } else {
                logger.error("chat: the answer to \(question.id) was not recorded: \(error)")
            }
            return
        }
        await post("\(Self.who(user, on: adapter)) answered: \(choice)", in: question.channel, thread: question.message,
                   on: adapter)
    }

    /// Answers a question for someone outside the chat (`api:alice`, `cli:alice`): the answer is
    /// recorded and said in the question's thread.
    ///
    /// - Parameter person: the name a personal API token proves, checked against the question's
    ///   roles as a person in chat is (a refusal is journaled as there); nil for the holder of the
    ///   data folder or of the server's shared token, who is trusted as the CLI's `--approve` is.
    /// - Throws: `ChatError` (`.notFound`) for an unknown question, (`.notAChoice`) for a choice
    ///   it does not offer, (`.notAllowed`) for a person without its role; `StoreError`
    ///   (`.conflict`) when it is answered already.
    /// - Returns: the choice as the question spells it.
    @discardableResult
    public func answer(_ id: String, choice: String, by: String, person: String? = nil) async throws -> String {
        guard let question = try await store.question(id) else {
            throw ChatError(.notFound, QuestionJSON.unknown(id))
        }
        guard question.answer == nil else {
            throw StoreError.questionAnswered(id, answer: question.answer ?? "")
        }
        guard let chosen = question.choice(matching: choice) else {
            throw ChatError(.notAChoice, "\(id) takes one of: " + question.choices.joined(separator: ", "))
        }
        if let person, !question.roles.isEmpty, case let held = self.roles,
           !question.roles.contains(where: { held[$0]?.contains(person) ?? false })
        {
            await journalRefusal(of: chosen, to: question, by: by)
            let refusal = UnassignedRole.none(of: question.roles, in: self.roles)
                ? UnassignedRole.refusal(question.roles, meanwhile: UnassignedRole.operatorAnswers(question))
                : "only people with the role " + question.roles.joined(separator: " or ")
                    + " may (chat.roles in the server's configuration)"
            throw ChatError(.notAllowed, "\(person) may not answer \(id): \(refusal)")
        }
        try await keep(chosen, to: question, by: by)
        if let adapter = try? adapter(question.network) {
            await post("\(by) answered: \(chosen)", in: question.channel, thread: question.message, on: adapter)
        }
        return chosen
    }

    /// Logs and journals an answer refused to someone without the question's role, as for a refused command.
    private func journalRefusal(of choice: String, to question: ChatQuestionRecord, by: String) async {
        let roles = question.roles.joined(separator: " or ")
        logger.notice("chat: the answer \(choice) to \(question.id) refused to \(by), who has no role \(roles)")
        guard let incident = await incident(of: question) else { return }
        do { try await store.write(.appendJournal([question.refused(choice, by: by, on: incident)])) } catch {
            logger.error("chat: the refused answer of \(by) could not be journaled on \(incident): \(error)")
        }
    }

    /// Records an answer (refused if there is one) and resumes the runs waiting for it.
    private func keep(_ choice: String, to question: ChatQuestionRecord, by: String) async throws(StoreError) {
        let now = Date()
        var writes: [StoreWrite] = [.answerQuestion(id: question.id, choice: choice, by: by, at: now)]
        // A playbook's question is part of its incident's story: who decided what.
        if let incident = await incident(of: question) {
            writes.append(.appendJournal([question.answered(choice, by: by, on: incident, at: now)]))
        }
        try await store.write(.all(writes))
        resolve(question.id, .success(Self.results(choice, by)))
    }

    /// The answer `timeout` by automator, and on its incident the entry that says nobody answered.
    private func timeOut(_ question: ChatQuestionRecord, deadline: Date) async -> StoreWrite {
        let now = Date()
        let answer = StoreWrite.answerQuestion(id: question.id, choice: Self.timedOut, by: "automator", at: now)
        guard let incident = await incident(of: question) else { return answer }
        return .all([answer, .appendJournal([question.timedOut(on: incident, deadline: deadline, at: now)])])
    }

    /// The incident it was asked for, whose journal tells what was decided: kept with it, or for a
    /// question kept before schema v19, its run's.
    private func incident(of question: ChatQuestionRecord) async -> IncidentID? {
        if let incident = question.incident { return incident }
        guard let run = question.runID else { return nil }
        return try? await store.loadRun(run)?.incident
    }

    /// Questions were answered through another worker sharing the store: `id`, or any when nil
    /// (changes may have been missed). The runs here waiting on them go on.
    ///
    /// - Throws: the store's error when a question could not be read (the others are looked at):
    ///   the caller looks again later.
    public func answeredElsewhere(_ id: String?) async throws(StoreError) {
        let waited = answerWaiters.withLock { waiters in id.map { waiters[$0] == nil ? [] : [$0] } ?? Array(waiters.keys) }
        var failure: StoreError?
        for id in waited {
            do {
                guard let question = try await store.question(id), let answer = question.answer else { continue }
                resolve(id, .success(Self.results(answer, question.answeredBy)))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    private static func results(_ answer: String, _ by: String?) -> [LuaValue] {
        [.string(LuaString(answer)), by.map { .string(LuaString($0)) } ?? .nil]
    }

    private func resolve(_ id: String, _ result: Result<[LuaValue], HostError>) {
        for waiter in answerWaiters.withLock({ $0.removeValue(forKey: id) ?? [] }) { waiter(result) }
    }
}
