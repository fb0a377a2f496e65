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
    /// How the loopback service answers `/lookup` now.
    enum Mode: Sendable { case hang, busy, broken, slowlyAnswers, answers }

    /// What the loopback service is told to do, and the requests it received.
    final class Behaviour: Sendable {
        let mode = Mutex(Mode.answers)
        let requests = Mutex(0)
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
                case .hang: try await Task.sleep(for: .seconds(3))
                case .busy: return Response(status: .tooManyRequests, headers: [.retryAfter: "1"])
                case .broken: return Response(status: .internalServerError)
                case .slowlyAnswers: try await Task.sleep(for: .milliseconds(150))
                case .answers: break
                }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "{}")))
            }
            server = try await LoopbackServer(router)
        }

        var count: Int { behaviour.requests.withLock { $0 } }
        func set(_ mode: Mode) { behaviour.mode.withLock { $0 = mode } }
    }

    static func integrations(_ service: Service, pause: PausePolicy) async throws -> (Integrations, ScratchFolder) {
        let folder = try IntegrationTests.folder(with: "qaintel", """
            return integration {
              name = "QA Intel", config = { base_url = "\(service.server.url)" },
              reputation = { ip = function(ip, config)
                local answer = http.get(config.base_url .. "/lookup", { timeout = 0.2 })
                if answer.status ~= 200 then error("QA Intel answered " .. answer.status, 0) end
                return { score = "benign", reason = "answered" }
              end },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:],
                                              retry: RetryPolicy(attempts: 1, firstDelay: .zero, longestWait: .zero),
                                              pause: pause, logger: IntegrationTests.logger)
        return (integrations, folder)
    }

    static func ask(_ integrations: Integrations) async throws -> SourceVerdict {
        try #require(await integrations.reputation(kind: "ip", value: "203.0.113.99").first)
    }

    @Test("After a timeout the next lookup answers at once, asking nothing; when the pause ends one probe goes, and a success ends it")
    func timeout() async throws {
        let service = try await Service()
        defer { service.server.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .seconds(1), longest: .seconds(4)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.hang)
        #expect(try await Self.ask(integrations).reason.contains("timed out after 0.2 s"))
        #expect(service.count == 1)

        let started = ContinuousClock.now
        let paused = try await Self.ask(integrations)
        #expect(ContinuousClock.now - started < .milliseconds(100))
        #expect(paused.failed && paused.score == .unknown)
        #expect(paused.reason.hasPrefix("not asked: QA Intel timed out after 0.2 s at "), "\(paused.reason)")
        #expect(paused.reason.contains(" UTC; asked again after "), "\(paused.reason)")
        #expect(service.count == 1, "nothing reached the service during the pause")

        // The pause ends: of two lookups at once, one asks; the other answers at once.
        service.set(.slowlyAnswers)
        try await Task.sleep(for: .milliseconds(1100))
        async let first = Self.ask(integrations)
        try await Task.sleep(for: .milliseconds(50))
        let second = try await Self.ask(integrations)
        #expect(second.reason.hasSuffix("being asked again now"), "\(second.reason)")
        #expect(try await first.reason == "answered")
        #expect(service.count == 2, "one probe")

        // Answered: the next lookups ask again at once.
        service.set(.answers)
        #expect(try await Self.ask(integrations).reason == "answered")
        #expect(service.count == 3)
    }

    @Test("A 429 pauses for its Retry-After, shorter than the default")
    func retryAfter() async throws {
        let service = try await Service()
        defer { service.server.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .seconds(20), longest: .seconds(40)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.busy)
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 429")
        let paused = try await Self.ask(integrations)
        #expect(paused.reason.hasPrefix("not asked: QA Intel answered 429 at "), "\(paused.reason)")
        #expect(service.count == 1)
        service.set(.answers)
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try await Self.ask(integrations).reason == "answered")
        #expect(service.count == 2)
    }

    @Test("A 5xx pauses; a probe that fails again doubles the pause")
    func serverError() async throws {
        let service = try await Service()
        defer { service.server.stop() }
        let (integrations, folder) = try await Self.integrations(service, pause: PausePolicy(first: .milliseconds(500), longest: .seconds(4)))
        defer { integrations.shutdown(); _ = folder }
        service.set(.broken)
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 500")
        #expect(try await Self.ask(integrations).reason.hasPrefix("not asked: QA Intel answered 500 at "))
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await Self.ask(integrations).reason == "failed: QA Intel answered 500", "the probe")
        #expect(service.count == 2)
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await Self.ask(integrations).reason.hasPrefix("not asked: "), "paused for a second now")
        #expect(service.count == 2)
        service.set(.answers)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await Self.ask(integrations).reason == "answered")
        #expect(service.count == 3)
    }
}
