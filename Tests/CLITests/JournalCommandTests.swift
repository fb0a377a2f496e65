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
        #expect(ok.stderr.contains("note: no checkpoint is signed yet, so entries cut from the journal's end would not "
            + "show: automator journal checkpoint signs the first"), "\(ok.stderr)")

        let signed = try await AutomatorProcess.run(["journal", "checkpoint", "--data", data])
        #expect(signed.status == 0 && signed.stdout.hasPrefix("checkpoint of entry 2 signed; public key "), "\(signed.stderr)")
        #expect(try await AutomatorProcess.run(["journal", "verify", "--data", data]).stdout
            .hasPrefix("journal verified: 2 entries, 1 checkpoint (the last signed 20"))
        // From a folder without the key (a second worker's, a laptop's), nothing says the key that
        // signed is the right one: verify says so and what to give.
        let key = data + "/journal-signing.key"
        try FileManager.default.moveItem(atPath: key, toPath: key + ".away")
        let unkeyed = try await AutomatorProcess.run(["journal", "verify", "--data", data])
        let publicKey = try #require(signed.stdout.split(separator: "\n").first?.split(separator: " ").last)
        #expect(unkeyed.status == 0 && unkeyed.stderr.contains("note: the checkpoints were checked against the key they "
            + "name, \(publicKey), not a key you "
            + "trust: \(key) is missing. Give --public-key"), "\(unkeyed.stderr)")
        try FileManager.default.moveItem(atPath: key + ".away", toPath: key)
        let keyed = try await AutomatorProcess.run(["journal", "verify", "--data", data])
        #expect(!keyed.stderr.contains("not a key you trust"), "\(keyed.stderr)")

        let shown = try await AutomatorProcess.run(["journal", "show", "INC-2", "--data", data])
        #expect(shown.status == 0 && shown.stdout.contains("created") && shown.stdout.contains("low test: Beacon"),
                "\(shown.stdout)\(shown.stderr)")
        // Pasted into a report for HR or counsel, the journal says its times' zone.
        #expect(shown.stdout.hasPrefix("TIME (UTC)  "), "\(shown.stdout)")
        let details = try await AutomatorProcess.run(["incident", "show", "INC-2", "--data", data])
        #expect(details.stdout.contains("journal:\n  TIME (UTC)  "), "\(details.stdout)")

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

    @Test("An actor's name with a newline shows on its entry's line, escaped, in journal show and audit: no forged line")
    func actorOnOneLine() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        let forged = "intern\n2026-11-30 19:12:41  cli:soc-lead"
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--scripts", folder.url.path,
                                                      "--title", "Beacon", "--type", "test", "--severity", "low"],
                                                     environment: ["USER": forged])
        #expect(created.status == 0, "\(created.stderr)")
        for command in [["journal", "show", "INC-1"], ["audit"]] {
            let shown = try await AutomatorProcess.run(command + ["--data", data])
            #expect(shown.status == 0 && shown.stdout.contains(#"cli:intern\n2026-11-30 19:12:41  cli:soc-lead"#), "\(shown.stdout)")
            #expect(!shown.stdout.split(separator: "\n").contains { $0.hasPrefix("2026-11-30 19:12:41  cli:soc-lead") },
                    "\(shown.stdout)")
        }
    }

    @Test("A checkpoint kept outside the folder catches what the stored ones cannot: a cut with them, another key")
    func kept() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        func create(_ title: String) async throws { try await Self.create(title, data: data, scripts: folder.url.path) }
        try await create("Phishing wave")
        let signed = try await AutomatorProcess.run(["journal", "checkpoint", "--data", data])
        let command = try #require(signed.stdout.split(separator: "\n").last.map(String.init), "\(signed.stdout)")
        let words = command.split(separator: " ").map(String.init)
        #expect(Array(words.prefix(3)) == ["automator", "journal", "verify"], "\(signed.stdout)")
        let verify = Array(words.dropFirst()) + ["--data", data]
        try await create("Beacon")
        let holds = try await AutomatorProcess.run(verify)
        #expect(holds.status == 0 && holds.stdout.hasSuffix("; the kept checkpoints hold\n"), "\(holds.stdout)\(holds.stderr)")

        // Whoever holds the folder cuts the end and the checkpoints with it: the stored ones say nothing.
        let database = try DatabaseQueue(path: data + "/automator.sqlite")
        try await database.write { try $0.execute(sql: "DELETE FROM journal WHERE sequence >= 1; DELETE FROM journal_checkpoint") }
        try database.close()
        try await create("Decoy")
        let alone = try await AutomatorProcess.run(["journal", "verify", "--data", data])
        #expect(alone.status == 0 && alone.stderr.contains("journal-signing.key exists but no checkpoint is stored"),
                "\(alone.stdout)\(alone.stderr)")
        let caught = try await AutomatorProcess.run(verify)
        #expect(caught.status == 1 && caught.stdout.hasPrefix("journal broken: journal entry 1: the kept checkpoint no "
            + "longer matches"), "\(caught.stdout)\(caught.stderr)")

        // ...or signs a checkpoint with a key of their own.
        try FileManager.default.removeItem(atPath: data + "/journal-signing.key")
        #expect(try await AutomatorProcess.run(["journal", "checkpoint", "--data", data]).status == 0)
        let resigned = try await AutomatorProcess.run(Array(verify.prefix(4)) + ["--data", data])
        #expect(resigned.status == 1 && resigned.stdout.contains("is signed by another key than the public key given"),
                "\(resigned.stdout)\(resigned.stderr)")
        let typo = try await AutomatorProcess.run(["journal", "verify", "--checkpoint", "12:abc", "--data", data])
        #expect(typo.status == 64 && typo.stderr.contains("--checkpoint takes SEQUENCE:CHAIN"), "\(typo.stderr)")
    }

    @Test("A folder restored without its key is refused a new one; --new-key starts one on purpose, the old checkpoints verify")
    func lostKey() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        func create(_ title: String) async throws { try await Self.create(title, data: data, scripts: folder.url.path) }
        try await create("Phishing wave")
        let first = try await AutomatorProcess.run(["journal", "checkpoint", "--data", data])
        let oldKey = try #require(first.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))

        // Restored without the key: neither a checkpoint nor an export makes a new one silently.
        try FileManager.default.removeItem(atPath: data + "/journal-signing.key")
        try await create("Beacon")
        let refused = try await AutomatorProcess.run(["journal", "checkpoint", "--data", data])
        #expect(refused.status == 1 && refused.stderr.contains("journal-signing.key is missing, but the journal holds 1 "
            + "checkpoint signed with the key \(oldKey) (the last at entry 1)"), "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("automator store backup") && refused.stderr.contains("journal checkpoint --new-key"))
        let bundle = folder.url.appendingPathComponent("INC-1.zip").path
        let export = try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", data])
        #expect(export.status == 1 && export.stderr.contains("is missing, but the journal holds 1 checkpoint"),
                "\(export.stdout)\(export.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data + "/journal-signing.key"))

        // On purpose: the old key is retired, on record, and its checkpoint still verifies beside the new key's.
        let started = try await AutomatorProcess.run(["journal", "checkpoint", "--new-key", "--data", data])
        #expect(started.status == 0 && started.stdout.hasPrefix("checkpoint of entry 2 signed; public key ")
                && !started.stdout.contains(oldKey), "\(started.stdout)\(started.stderr)")
        #expect(started.stderr.contains("the key \(oldKey) is retired: its checkpoints up to entry 1 still verify"),
                "\(started.stderr)")
        let retired = try String(contentsOfFile: data + "/journal-signing.retired", encoding: .utf8)
        #expect(retired.contains(oldKey) && retired.contains("\"through\" : 1"), "\(retired)")
        let verified = try await AutomatorProcess.run(["journal", "verify", "--data", data])
        #expect(verified.status == 0 && verified.stdout.hasPrefix("journal verified: 2 entries, 2 checkpoints"),
                "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stderr.contains("signed by the key \(oldKey), retired "), "\(verified.stderr)")
        #expect(try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", data]).status == 0)
        let again = try await AutomatorProcess.run(["journal", "checkpoint", "--new-key", "--data", data])
        #expect(again.status == 1 && again.stderr.contains("journal-signing.key exists: a new key replaces a lost one"),
                "\(again.stderr)")
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

    /// Creates an incident in `data` from the command line.
    static func create(_ title: String, data: String, scripts: String) async throws {
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--scripts", scripts,
                                                      "--title", title, "--type", "test", "--severity", "low"])
        #expect(created.status == 0, "\(created.stderr)")
    }
}
