import AutomatorRuntime
import Foundation
import Logging
import Testing

@Suite("The intel module in Lua")
struct IntelModuleTests {
    /// Runs `source` on a thread of its own: `Sandbox.run` blocks its thread while a host call
    /// waits, and the call's task needs Swift's cooperative threads free.
    static func run(_ source: String, reputation: ReputationService? = nil) async throws -> [LuaValue] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
                    let sandbox = try Sandbox(modules: StandardModules.all(logger: logger, reputation: reputation))
                    let chunk = try sandbox.load(Array(source.utf8), chunkName: "=intel", in: try sandbox.makeEnvironment())
                    continuation.resume(returning: try sandbox.run(chunk, limits: Limits(timeout: .seconds(10))))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    @Test("extract gives type, value, and first/last as string.sub takes them")
    func extract() async throws {
        let values = try await Self.run("""
            local text = "C2 at hxxps://evil[.]example.com/gate and 203.0.113.7"
            local out = {}
            for _, found in ipairs(intel.extract(text)) do
              out[#out + 1] = found.type .. " " .. found.value .. " " .. text:sub(found.first, found.last)
            end
            return table.concat(out, "\\n")
            """)
        #expect(values == [.string("""
            url https://evil.example.com/gate hxxps://evil[.]example.com/gate
            domain evil.example.com evil[.]example.com
            ipv4 203.0.113.7 203.0.113.7
            """)])
    }

    @Test("reputation without a source says so; with feeds, the verdict and its sources are a table")
    func reputation() async throws {
        await #expect(throws: LuaError.self) { try await Self.run("return intel.reputation('203.0.113.7')") }
        let folder = try ScratchFolder()
        try "203.0.113.7 scanner\n".write(toFile: folder.path + "/bad.txt", atomically: true, encoding: .utf8)
        var settings = IntelConfiguration()
        settings.feeds = [.init(name: "bad", path: folder.path + "/bad.txt", verdict: "malicious", format: nil, options: [:])]
        let service = ReputationService(feeds: FeedSet(settings.feeds, logger: Logger(label: "t")), integrations: nil, cache: nil)
        let values = try await Self.run("""
            local result = intel.reputation("203.0.113[.]7")
            return result.verdict, result.score, result.sources[1].source, result.sources[1].reliability, result.summary
            """, reputation: service)
        #expect(values == [.string("malicious"), .integer(3), .string(#"local feed "bad""#), .string("B"),
                           .string(#"malicious: 1 of 1 source; local feed "bad" (scanner)"#)])
        let file = try await Self.run("return intel.file('hello').sha256", reputation: service)
        #expect(file == [.string("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")])
    }

    @Test("reputations takes values and what extract gives, answers in their order, and names a bad item")
    func reputations() async throws {
        let folder = try ScratchFolder()
        try "203.0.113.7 scanner\nevil.example.com phishing\n".write(toFile: folder.path + "/bad.txt", atomically: true,
                                                                      encoding: .utf8)
        var settings = IntelConfiguration()
        settings.feeds = [.init(name: "bad", path: folder.path + "/bad.txt", verdict: "malicious", format: nil, options: [:])]
        let service = ReputationService(feeds: FeedSet(settings.feeds, logger: Logger(label: "t")), integrations: nil, cache: nil)
        let values = try await Self.run("""
            local list = intel.extract("from 198.51.100.7 to hxxps://evil[.]example.com/gate")
            table.insert(list, 1, "203.0.113[.]7")
            local out = {}
            for i, verdict in ipairs(intel.reputations(list)) do
              out[i] = (type(list[i]) == "table" and list[i].value or list[i]) .. " " .. verdict.verdict
            end
            return table.concat(out, ", "), #intel.reputations({})
            """, reputation: service)
        let verdicts = "203.0.113[.]7 malicious, 198.51.100.7 unknown, https://evil.example.com/gate malicious, "
            + "evil.example.com malicious"
        #expect(values == [.string(LuaString(verdicts)), .integer(0)])
        let error = await #expect(throws: LuaError.self) {
            try await Self.run("return intel.reputations({ '203.0.113.7', 'nothing' })", reputation: service)
        }
        #expect(error?.message.contains("'nothing' is not an IP, domain, URL") == true, "\(error?.message ?? "")")
    }
}
