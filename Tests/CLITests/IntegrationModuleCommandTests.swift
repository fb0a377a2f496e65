import Foundation
import TestSupport
import Testing

/// An integration's `require` of the scripts folder's modules where the commands read it:
/// `automator check`, `automator test` and `automator run --incident`.
@Suite("Integrations require the scripts folder's modules: check, test and run")
struct IntegrationModuleCommandTests {
    static let judge = """
        return playbook {
          name = "Judge", match = { type = "c2" },
          run = function(inc)
            local judged = actions.run("blocklist.judge", { ip = inc.fields.ip }, { incident = inc })
            inc:note("judged: " .. judged.status)
          end,
        }
        """

    /// `files` under `real/`, and `scripts`, a link to it, beside: a scripts folder linked into place.
    static func linkedScripts(_ files: [String: String]) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        for (path, text) in files { try folder.write("real/" + path, text) }
        try FileManager.default.createSymbolicLink(atPath: folder.url.appendingPathComponent("scripts").path,
                                                   withDestinationPath: "real")
        return folder
    }

    @Test("check reads an integration that requires a module of a linked scripts folder, given by a relative path")
    func check() async throws {
        let folder = try Self.linkedScripts(RequiringIntegration.files.merging(["playbooks/judge.lua": Self.judge]) { $1 })
        let result = try await AutomatorProcess.run(["check", "--scripts", "scripts"], in: folder.url)
        #expect(result.status == 0 && result.stdout.hasSuffix("3 files checked: no problems (integrations' settings not "
            + "checked: give --config)\n"), "\(result.stdout)\(result.stderr)")

        try FileManager.default.removeItem(at: folder.url.appendingPathComponent("real/lib/listing.lua"))
        let missing = try await AutomatorProcess.run(["check", "--scripts", "scripts"], in: folder.url)
        #expect(missing.status == 1)
        let problems = missing.stdout.split(separator: "\n").filter { $0.hasPrefix("scripts/") }
        #expect(problems == [
            "scripts/integrations/blocklist.lua:1: module 'lib.listing' not found: no file 'scripts/lib/listing.lua'",
            "scripts/playbooks/judge.lua:4: runs the action blocklist.judge, but scripts/integrations/blocklist.lua does "
                + "not load: see its problems",
        ], "\(missing.stdout)")
    }

    @Test("automator test knows the actions of an integration that requires a module")
    func playbookTest() async throws {
        let folder = try Self.linkedScripts(RequiringIntegration.files.merging([
            "playbooks/judge.lua": Self.judge,
            "playbooks/judge_test.lua": """
            local judge = require("playbooks.judge")
            test("the judgement is planned", function()
              local result = run(judge, { type = "c2", fields = { ip = "198.51.100.7" } })
              expect.note(result, "judged: planned")
              expect.action(result, "blocklist.judge", { ip = "198.51.100.7" })
            end)
            """,
        ]) { $1 })
        let result = try await AutomatorProcess.run(["test", "--scripts", "scripts"], in: folder.url)
        #expect(result.status == 0 && result.stdout.contains("1 test, 0 failed"), "\(result.stdout)\(result.stderr)")
    }

    @Test("automator run: the integrations require from the scripts folder alone, the playbook from its own folder too")
    func run() async throws {
        let folder = try Self.linkedScripts(RequiringIntegration.files)
        try folder.write("mine/lib/labels.lua", #"return { judged = "judged: " }"#)
        try folder.write("mine/judge.lua", Self.judge.replacingOccurrences(
            of: #"inc:note("judged: " .. judged.status)"#, with: #"inc:note(require("lib.labels").judged .. judged.status)"#))
        try folder.write("inc.json", #"{"title": "C2", "type": "c2", "severity": "high", "fields": {"ip": "198.51.100.7"}}"#)
        let arguments = ["run", "mine/judge.lua", "--scripts", "scripts", "--incident", "inc.json"]
        let result = try await AutomatorProcess.run(arguments, in: folder.url)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("dry run, nothing sent: would run blocklist.judge ip=198.51.100.7"), "\(result.stdout)")
        #expect(result.stdout.contains("judged: planned"), "\(result.stdout)")

        // The module beside the playbook is not the integration's: it is the same file whichever playbook calls it.
        try FileManager.default.moveItem(at: folder.url.appendingPathComponent("real/lib/listing.lua"),
                                         to: folder.url.appendingPathComponent("mine/lib/listing.lua"))
        let moved = try await AutomatorProcess.run(arguments, in: folder.url)
        #expect(moved.status == 1)
        #expect((moved.stdout + moved.stderr).contains("module 'lib.listing' not found: no file 'scripts/lib/listing.lua'"),
                "\(moved.stdout)\(moved.stderr)")
    }
}
