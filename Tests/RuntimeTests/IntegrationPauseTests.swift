import AutomatorRuntime
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Integrations rest after their service timed out, said 429 or failed: lookups answer at once meanwhile",
       .timeLimit(.minutes(1)))
struct IntegrationPauseTests {
    /// How the loopback service answers `/lookup` now: `held` answers once the test calls
    /// `release()`, which is after the lookup's timeout or while the test looks at a probe in flight.
    enum Mode: Sendable { case held, busy(retryAfter: String), broken, answers }

    /// What the loopback service is told to do, and the requests it received.
    final class Behaviour: Sendable {
        let mode = Mutex(Mode.answers)
        let requests = Mutex(0)
        /// Whether held lookups were released; those still held.
        let held = Mutex<(released: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
        /// Whether `POST /block`, the firewall's endpoint, answers 500; and the blocks it received.
        let blockFails = Mutex(false)
        let blocks = Mutex(0)
    }

    final class Service: Sendable {
        let behaviour = Behaviour()
        let server: LoopbackServer

        init() async throws {
            let router = Router()
            let behaviour = self.behaviour
            router.get("/lookup") { _, _ -> Response in
                behaviour.requests.withLock { $0 += 1 }
                switch behaviour.mode.withLock({ $0 }) {
                case .held:
                    await withCheckedContinuation { continuation in
                        behaviour.held.withLock { held in
                            if held.released { continuation.resume() } else { held.waiting.append(continuation) }
                        }
                    }
                case .busy(let wait): return Response(status: .tooManyRequests, headers: [.retryAfter: wait])
                case .broken: return Response(status: .internalServerError)
                case .answers: break
                }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{}")))
            }
            router.post("/block") { _, _ -> Response in
                behaviour.blocks.withLock { $0 += 1 }
                return Response(status: behaviour.blockFails.withLock { $0 } ? .internalServerError : .created)
            }
            server = try await LoopbackServer(router)
        }

        var count: Int { behaviour.requests.withLock { $0 } }
        var blocks: Int { behaviour.blocks.withLock { $0 } }
        func set(_ mode: Mode) { behaviour.mode.withLock { $0 = mode } }

        /// Lets every held lookup, and those to come, answer.
        func release() {
            let waiting = behaviour.held.withLock { held in
                held.released = true
                defer { held.waiting = [] }
                return held.waiting
            }
            for continuation in waiting { continuation.resume() }
        }

        func stop() {
            release()
            server.stop()
        }
    }

    /// QA Intel: a lookup that waits 2 s for its answer (long enough for a test to look at a probe
    /// in flight on a loaded machine), and an action that blocks at the same service.
    static func integrations(_ service: Service, pause: PausePolicy,
                             retry: RetryPolicy = RetryPolicy(attempts: 1, firstDelay: .zero, longestWait: .zero))
        async throws -> (Integrations, ScratchFolder)
    {
        let folder = try IntegrationTests.folder(with: "qaintel", """
            return integration {
              name = "QA Intel", config = { base_url = "\(service.server.url)" },
              reputation = { ip = function(ip, config)
                local answer = http.get(config.base_url .. "/lookup", { timeout = 2 })
                if answer.status ~= 200 then error("QA Intel answered " .. answer.status, 0) end
                return { score = "benign", reason = "answered" }
              end },
              actions = { block = { risk = "low", run = function(params, context)
                local answer = http.post(context.config.base_url .. "/block", "{}", { timeout = 2 })
                if answer.status ~= 201 then error("the firewall answered " .. answer.status, 0) end
                return { blocked = true }
              end } },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:], retry: retry,
                                              pause: pause, logger: IntegrationTests.logger)
        return (integrations, folder)
    }

    static func ask(_ integrations: Integrations) async throws -> SourceVerdict {
        try #require(await integrations.reputation(kind: "ip", value: "203.0.113.99").first)
    }

    @Test("After a timeout the next lookup answers at once, asking nothing; when the pause ends one probe goes, and a success ends it")
    func timeout() async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .seconds(1), longest: .seconds(4)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.held)
        #expect(try await Self.ask(integrations).reason.contains("timed out after 2 s"))
        #expect(service.count == 1)

        // Answered from the pause: nothing reached the service (counted below), so the lookup's
        // 2 s timeout, the only wait there was to take, was not.
        let paused = try await Self.ask(integrations)
        #expect(paused.failed && paused.score == .unknown)
        #expect(paused.failed && !paused.asked)
        #expect(paused.reason.hasPrefix("paused until "), "\(paused.reason)")
        #expect(paused.reason.contains(" UTC (timed out after 2 s at "), "\(paused.reason)")
        #expect(service.count == 1, "nothing reached the service during the pause")
        let state = try #require(integrations.statuses.first?.pause)
        #expect(state.reason.hasPrefix("timed out after 2 s at ") && state.until.timeIntervalSince(state.since) == 1)

        // The pause ends: of two lookups at once, one asks; the other answers at once.
        try await Task.sleep(for: .milliseconds(1100))
        async let first = Self.ask(integrations)
        try #require(try await eventually { service.count == 2 }, "the probe reached the service")
        let second = try await Self.ask(integrations)
        #expect(second.reason.hasPrefix("paused while another lookup asks it again (timed out"), "\(second.reason)")
        #expect(integrations.statuses.first?.pause == state, "still paused while the probe is under way")
        service.release()
        #expect(try await first.reason == "answered")
        #expect(service.count == 2, "one probe")
        #expect(integrations.statuses.first?.pause == nil, "the service answered")

        // Answered: the next lookups ask again at once.
        service.set(.answers)
        #expect(try await Self.ask(integrations).reason == "answered")
        #expect(service.count == 3)
    }

    @Test("A 429 pauses for its Retry-After, shorter than the default")
    func retryAfter() async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .seconds(20), longest: .seconds(40)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.busy(retryAfter: "1"))
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 429")
        let paused = try await Self.ask(integrations)
        #expect(paused.reason.hasPrefix("paused until "), "\(paused.reason)")
        #expect(paused.reason.contains(" (answered 429 at "), "\(paused.reason)")
        #expect(service.count == 1)
        service.set(.answers)
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await Self.ask(integrations).reason == "answered")
        #expect(service.count == 2)
    }

    @Test("A 5xx pauses; a probe that fails again doubles the pause")
    func serverError() async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .milliseconds(500), longest: .seconds(4)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.broken)
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 500")
        #expect(try await Self.ask(integrations).reason.contains(" (answered 500 at "))
        let first = try #require(integrations.statuses.first?.pause)
        try await Task.sleep(for: .milliseconds(600))
        let probing = Date()
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 500", "the probe")
        let probed = Date()
        #expect(service.count == 2)
        let again = try #require(integrations.statuses.first?.pause)
        #expect(again.since == first.since, "paused since the first failure")
        #expect(again.until >= probing.addingTimeInterval(1 - 0.001) && again.until <= probed.addingTimeInterval(1 + 0.001),
                "for a second from the probe, twice the first pause: \(again)")
        #expect(try await Self.ask(integrations).reason.hasPrefix("paused until "))
        #expect(service.count == 2)
        service.set(.answers)
        try await Task.sleep(for: .milliseconds(Int(again.until.timeIntervalSinceNow * 1000) + 100))
        #expect(try await Self.ask(integrations).reason == "answered")
        #expect(service.count == 3)
    }

    @Test("Paused says what is true now: while the pause lasts and its probe asks, not once it ended with no lookup since")
    func pausedNow() async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .seconds(1), longest: .seconds(4)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.broken)
        _ = try await Self.ask(integrations)
        #expect(integrations.statuses.first?.isPaused == true)
        try await Task.sleep(for: .milliseconds(1100))
        #expect(integrations.statuses.first?.isPaused == false, "its end passed: the next lookup asks")
        #expect(integrations.statuses.first?.pause != nil, "the pause is kept until the service answers")

        service.set(.held)
        async let probe = Self.ask(integrations)
        try #require(try await eventually { service.count == 2 }, "the probe reached the service")
        #expect(integrations.statuses.first?.isPaused == true, "the others answer at once while the probe asks")
        service.release()
        #expect(try await probe.reason == "answered")
        #expect(integrations.statuses.first?.isPaused == false && integrations.statuses.first?.pause == nil)
    }

    @Test("A service that asked for an hour keeps its hour when the integration's file is edited; new settings ask again")
    func pauseKeptAcrossAnEdit() async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(service,
                                                                 pause: PausePolicy(first: .seconds(20), longest: .seconds(7200)))
        defer { integrations.shutdown() }
        service.set(.busy(retryAfter: "3600"))
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 429")
        let pause = try #require(integrations.statuses.first?.pause)
        let loaded = integrations.statuses.first?.loadedAt

        let file = folder.path + "/qaintel.lua"
        try (String(contentsOfFile: file, encoding: .utf8) + "-- edited\n").write(toFile: file, atomically: true, encoding: .utf8)
        await integrations.refresh()
        #expect(integrations.statuses.first?.loadedAt != loaded, "the edited file is in use")
        #expect(integrations.statuses.first?.pause == pause)
        #expect(try await Self.ask(integrations).reason.hasPrefix("paused until "))
        #expect(service.count == 1, "the service was not asked before its hour")

        var settings = IntelConfiguration.IntegrationSettings()
        settings.perMinute = 1000
        integrations.reconfigure(settings: ["qaintel": settings])
        await integrations.refresh()
        service.set(.answers)
        #expect(try await Self.ask(integrations).reason == "answered", "new settings may name another key or service")
        #expect(service.count == 2)
    }

    @Test("A 429 whose Retry-After is past the call's timeout is not slept out: the lookup answers at once and the pause lasts it",
          arguments: [false, true])
    func retryAfterPastTimeout(asDate: Bool) async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(
            service, pause: PausePolicy(first: .seconds(1), longest: .seconds(300)),
            retry: RetryPolicy(attempts: 3, firstDelay: .milliseconds(50), longestWait: .seconds(60)))
        defer { integrations.shutdown(); _ = folder }
        // Two minutes, in seconds or as an HTTP-date (whole seconds: the pause ends at that second).
        let date = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 120).rounded(.down))
        service.set(.busy(retryAfter: asDate ? Self.httpDate(date) : "120"))
        let started = ContinuousClock.now
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 429")
        #expect(ContinuousClock.now - started < .seconds(30), "not two minutes of Retry-After")
        #expect(service.count == 1)
        let pause = try #require(integrations.statuses.first?.pause)
        let until = asDate ? date : pause.since.addingTimeInterval(120)
        #expect(abs(pause.until.timeIntervalSince(until)) < 0.01, "the pause lasts the Retry-After")
        #expect(try await Self.ask(integrations).reason.hasPrefix("paused until "))
        #expect(service.count == 1)
    }

    /// `Wed, 21 Oct 2026 07:28:00 GMT`.
    static func httpDate(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }

    @Test("An action's 5xx pauses no lookup, and a lookups' pause holds no action back; nor does an action end it")
    func actionsApart() async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .seconds(20), longest: .seconds(40)))
        defer { integrations.shutdown(); _ = folder }
        let (actions, store) = try await ResponseIntegrationTests.service(integrations, in: folder)
        defer { _ = store }
        service.behaviour.blockFails.withLock { $0 = true }
        guard case .failure(let error) = await ResponseIntegrationTests.run(actions, "qaintel.block", [:], key: "k/1") else {
            Issue.record("the firewall's 500 fails the action")
            return
        }
        #expect(error.description.contains("the firewall answered 500"), "\(error)")
        #expect(integrations.statuses.first?.pause == nil)
        #expect(try await Self.ask(integrations).reason == "answered", "the lookup asks the service")
        #expect(service.count == 1)

        // The lookups' service fails: they pause; an action still reaches the firewall, and its success ends nothing.
        service.set(.broken)
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 500")
        service.behaviour.blockFails.withLock { $0 = false }
        let done = try await ResponseIntegrationTests.run(actions, "qaintel.block", [:], key: "k/2").get()
        #expect(done.status == .done, "\(done)")
        #expect(service.blocks == 2)
        #expect(try await Self.ask(integrations).reason.hasPrefix("paused until "))
        #expect(service.count == 2)
    }

    @Test("A verdict with its only integration paused says it was not asked, and why, not that a source was asked")
    func pausedVerdict() async throws {
        let service = try await Service()
        defer { service.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .seconds(20), longest: .seconds(40)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.broken)
        _ = try await Self.ask(integrations)
        let verdict = Verdict(await integrations.reputation(kind: "ip", value: "203.0.113.99"))
        #expect(verdict.summary.hasPrefix("unknown: no feed lists it; not asked: QA Intel, paused until "), "\(verdict.summary)")
        #expect(verdict.summary.contains(" UTC (answered 500 at ") && verdict.summary.hasSuffix(" UTC)"), "\(verdict.summary)")
        #expect(!verdict.summary.contains("source"), "\(verdict.summary)")
    }
}
