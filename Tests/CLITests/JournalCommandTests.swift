import Foundation
import GRDB
import Testing

@Suite("automator journal: show, verify, checkpoint", .timeLimit(.minutes(1)))
struct JournalCommandTests {
    @Test("verify passes, then names the entry whose byte was changed; a checkpoint catches a cut; show prints")
    func verify() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        for title in ["Phishing wave", "Beacon"] {
            let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--scripts", folder.url.path,
                                                          "--title", title, "--type", "test", "--severity", "low"])
            #expect(created.status == 0, "\(created.stderr)")
        }
        let ok = try await AutomatorProcess.run(["journal", "verify", "--data", data])
        #expect(ok.status == 0 && ok.stdout == "journal verified: 2 entries, 0 checkpoints\n", "\(ok.stdout)\(ok.stderr)")

        let signed = try await AutomatorProcess.run(["journal", "checkpoint", "--data", data])
        #expect(signed.status == 0 && signed.stdout.hasPrefix("checkpoint of entry 2 signed; public key "), "\(signed.stderr)")
        #expect(try await AutomatorProcess.run(["journal", "verify", "--data", data]).stdout
            == "journal verified: 2 entries, 1 checkpoint\n")

        let shown = try await AutomatorProcess.run(["journal", "show", "INC-2", "--data", data])
        #expect(shown.status == 0 && shown.stdout.contains("created") && shown.stdout.contains("low test: Beacon"),
                "\(shown.stdout)\(shown.stderr)")

        let database = try DatabaseQueue(path: data + "/automator.sqlite")
        try await database.write { try $0.execute(sql: "UPDATE journal SET text = 'low test: Beacom' WHERE sequence = 2") }
        try database.close()
        let broken = try await AutomatorProcess.run(["journal", "verify", "--data", data])
        #expect(broken.status == 1)
        #expect(broken.stdout.hasPrefix("journal broken: journal entry 2 (INC-2): its content does not match its hash"),
                "\(broken.stdout)")
        #expect(try await AutomatorProcess.run(["journal", "verify", "INC-1", "--data", data]).status == 0)
        let unknown = try await AutomatorProcess.run(["journal", "verify", "inc-99", "--data", data])
        #expect(unknown.status == 1 && unknown.stderr.hasPrefix("error: INC-99 has no journal entry: there is no such incident"),
                "a mistyped id is not a verified journal: \(unknown.stdout)\(unknown.stderr)")
    }

    @Test("A NUL in an alert's text is kept as U+FFFD: the journal verifies as stored, the title is whole")
    func nul() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        // JSON's \u0000: SQLite's text ended there when read back, so the entry no longer matched its hash.
        let alert = try folder.write("nul.json", #"{"title": "nul\u0000here", "type": "test", "severity": "low"}"#)
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--scripts", folder.url.path,
                                                      "--json", alert])
        #expect(created.status == 0, "\(created.stderr)")
        let verified = try await AutomatorProcess.run(["journal", "verify", "--data", data])
        #expect(verified.status == 0 && verified.stdout == "journal verified: 1 entry, 0 checkpoints\n",
                "\(verified.stdout)\(verified.stderr)")
        let shown = try await AutomatorProcess.run(["journal", "show", "INC-1", "--data", data])
        #expect(shown.stdout.contains("low test: nul\u{FFFD}here"), "\(shown.stdout)")
    }
}
