import Foundation
import Testing

@Suite("automator store backup: a folder copied while serve writes to it, and started again", .timeLimit(.minutes(2)))
struct StoreBackupTests {
    @Test("A backup taken while serve journals notes verifies, keeps the evidence, the key and the token, and serves")
    func whileServing() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let scripts = folder.url.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data.path, "--title", "Exfiltration",
                                                      "--type", "dlp", "--severity", "high"])
        #expect(created.status == 0, "\(created.stderr)")
        let mail = try folder.write("mail.eml", "From: payroll@examp1e-hr.test\n")
        #expect(try await AutomatorProcess.run(["evidence", "add", "INC-1", mail, "--data", data.path]).status == 0)
        #expect(try await AutomatorProcess.run(["journal", "checkpoint", "--data", data.path]).status == 0)

        let server = try await ServerProcess.start(data: data, scripts: scripts)
        // Notes written all through the backup: its snapshot must hold whole transactions only.
        let writing = Task {
            for number in 1...60 {
                _ = try await server.call("POST", "/api/v1/incidents/INC-1/journal",
                                          body: #"{"text": "note \#(number)", "by": "alice"}"#)
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let backup = folder.url.appendingPathComponent("backup").path
        let backedUp = try await AutomatorProcess.run(["store", "backup", backup, "--data", data.path])
        try await writing.value
        server.terminate()
        _ = await server.waitForExit()
        #expect(backedUp.status == 0 && backedUp.stdout.contains("1 evidence file")
                && backedUp.stdout.contains("journal-signing.key, api-token"), "\(backedUp.stdout)\(backedUp.stderr)")

        let verified = try await AutomatorProcess.run(["journal", "verify", "--data", backup])
        #expect(verified.status == 0 && verified.stdout.contains("1 checkpoint"), "\(verified.stdout)\(verified.stderr)")
        #expect(try await AutomatorProcess.run(["store", "restore", "--data", backup]).status == 0)
        let bundle = folder.url.appendingPathComponent("INC-1.zip").path
        let exported = try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", backup])
        #expect(exported.status == 0, "\(exported.stderr)")

        let restored = try await ServerProcess.start(data: URL(fileURLWithPath: backup), scripts: scripts)
        #expect(restored.token == server.token, "the token goes with the folder")
        #expect(try await restored.call("GET", "/api/v1/incidents/INC-1").status == 200)
        restored.terminate()
        _ = await restored.waitForExit()

        let again = try await AutomatorProcess.run(["store", "backup", backup, "--data", data.path])
        #expect(again.status == 1 && again.stderr.contains("is not an empty folder"), "\(again.stderr)")
    }

    /// A data folder with one incident, INC-1, made by the CLI.
    static func folderWithIncident() async throws -> (folder: TemporaryFolder, data: String) {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--title", "Exfiltration",
                                                      "--type", "dlp", "--severity", "high"])
        #expect(created.status == 0, "\(created.stderr)")
        return (folder, data)
    }

    @Test("store backup says its sizes as people read them: bytes, KiB, MiB, never (0 MiB)")
    func sizes() async throws {
        let (folder, data) = try await Self.folderWithIncident()
        let mail = try folder.write("mail.eml", "From: payroll@examp1e-hr.test\n")
        #expect(try await AutomatorProcess.run(["evidence", "add", "INC-1", mail, "--data", data]).status == 0)
        let small = try await AutomatorProcess.run(["store", "backup", folder.url.appendingPathComponent("small").path,
                                                    "--data", data])
        #expect(small.status == 0 && small.stdout.contains(#/the database \(\d+ KiB\), 1 evidence file \(30 bytes\)/#),
                "\(small.stdout)\(small.stderr)")

        let capture = try folder.write("capture.pcap", String(repeating: "x", count: 3 << 20 + 100 << 10))
        #expect(try await AutomatorProcess.run(["evidence", "add", "INC-1", capture, "--data", data]).status == 0)
        let large = try await AutomatorProcess.run(["store", "backup", folder.url.appendingPathComponent("large").path,
                                                    "--data", data])
        #expect(large.status == 0 && large.stdout.contains("2 evidence files (3.1 MiB)"), "\(large.stdout)\(large.stderr)")
    }

    @Test("A backup is read but neither served nor written until store restore, which waits for the original's serve to stop; the waiting run then resumes once")
    func restore() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let scripts = folder.url.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        // Waits for a person: the run a server on the backup would resume.
        try """
            local t = incidents.get("INC-1"):task{ title = "Confirm with the reporter" }
            return t:wait()
            """.write(to: scripts.appendingPathComponent("confirm.lua"), atomically: true, encoding: .utf8)
        #expect(try await AutomatorProcess.run(["incident", "create", "--data", data.path, "--title", "Exfiltration",
                                                "--type", "dlp", "--severity", "high"]).status == 0)
        let server = try await ServerProcess.start(data: data, scripts: scripts)
        let started = try await server.call("POST", "/api/v1/runs", body: #"{"script": "confirm.lua"}"#)
        let run = try #require(started.json["id"] as? String, "\(started.body)")
        let waiting = try await server.waitForIncident("INC-1") { ($0["tasks"] as? [[String: Any]])?.count == 1 }
        let task = try #require((waiting["tasks"] as? [[String: Any]])?.first?["id"] as? String)
        let backup = folder.url.appendingPathComponent("backup").path
        #expect(try await AutomatorProcess.run(["store", "backup", backup, "--data", data.path]).status == 0)

        let mark = "\(backup) is a backup of \(data.standardizedFileURL.path) (made by automator store backup at "
        let served = try await AutomatorProcess.run(["serve", "--data", backup, "--http", "127.0.0.1:0",
                                                     "--scripts", scripts.path])
        #expect(served.status == 1 && served.stderr.contains(mark)
                && served.stderr.contains("automator store restore --data \(backup)"), "\(served.stderr)")
        let written = try await AutomatorProcess.run(["incident", "create", "--data", backup, "--title", "x",
                                                      "--type", "y", "--severity", "low"])
        #expect(written.status == 1 && written.stderr.contains(mark), "\(written.stderr)")
        // Nor its signing key: a checkpoint or an export would make one (or retire one) before the store refused.
        for signing in [["journal", "checkpoint"], ["journal", "checkpoint", "--new-key"],
                        ["evidence", "export", "INC-1", folder.url.appendingPathComponent("INC-1.zip").path]] {
            let refused = try await AutomatorProcess.run(signing + ["--data", backup])
            #expect(refused.status == 1 && refused.stderr.contains(mark), "\(signing): \(refused.stderr)")
        }
        for file in ["journal-signing.key", "journal-signing.retired"] {
            #expect(!FileManager.default.fileExists(atPath: backup + "/" + file), "\(file) written into the backup")
        }
        let listed = try await AutomatorProcess.run(["incident", "list", "--data", backup])
        #expect(listed.status == 0 && listed.stdout.contains("Exfiltration"), "\(listed.stdout)\(listed.stderr)")
        let checked = try await AutomatorProcess.run(["store", "check", "--data", backup])
        #expect(checked.status == 0 && checked.stdout.contains("backup of: \(data.standardizedFileURL.path) (made by"),
                "\(checked.stdout)")

        let early = try await AutomatorProcess.run(["store", "restore", "--data", backup])
        #expect(early.status == 1 && early.stderr.contains("automator serve (pid \(server.pid)) runs on"), "\(early.stderr)")
        server.terminate()
        _ = await server.waitForExit()
        let restored = try await AutomatorProcess.run(["store", "restore", "--data", backup])
        #expect(restored.status == 0 && restored.stdout.contains("which resumes its 1 unfinished run"),
                "\(restored.stdout)\(restored.stderr)")
        let again = try await ServerProcess.start(data: URL(fileURLWithPath: backup), scripts: scripts)
        #expect(try await again.call("POST", "/api/v1/tasks/\(task)/complete", body: #"{"answer": "yes"}"#).status == 200)
        #expect(try await again.waitForRun(run)["status"] as? String == "completed")
        again.terminate()
        _ = await again.waitForExit()
    }

    @Test("store check --data reads a folder while serve runs, changing nothing; a damaged backup exits 1 saying so")
    func checkFolder() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let scripts = folder.url.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        try "time.sleep(3600)".write(to: scripts.appendingPathComponent("wait.lua"), atomically: true, encoding: .utf8)
        #expect(try await AutomatorProcess.run(["incident", "create", "--data", data.path, "--title", "Exfiltration",
                                                "--type", "dlp", "--severity", "high"]).status == 0)
        let server = try await ServerProcess.start(data: data, scripts: scripts)
        #expect(try await server.call("POST", "/api/v1/runs", body: #"{"script": "wait.lua"}"#).status == 201)
        let live = try await AutomatorProcess.run(["store", "check", "--data", data.path])
        server.terminate()
        _ = await server.waitForExit()
        #expect(live.status == 0 && live.stdout.contains("(current)\nincidents: 1\nunfinished runs: 1 (")
                && live.stdout.hasSuffix("integrity: ok\n"), "\(live.stdout)\(live.stderr)")

        let backup = folder.url.appendingPathComponent("backup").path
        #expect(try await AutomatorProcess.run(["store", "backup", backup, "--data", data.path]).status == 0)
        let database = backup + "/automator.sqlite"
        let before = try Data(contentsOf: URL(fileURLWithPath: database))
        #expect(try await AutomatorProcess.run(["store", "check", "--data", backup]).status == 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: database)) == before, "a check writes nothing")
        // The last page zeroed, as a disk or a copy cut short would leave it.
        var damaged = before
        damaged.replaceSubrange((before.count - 4096)..<before.count, with: Data(count: 4096))
        try damaged.write(to: URL(fileURLWithPath: database))
        let checked = try await AutomatorProcess.run(["store", "check", "--data", backup])
        #expect(checked.status == 1 && checked.stdout.contains("integrity: damaged")
                && checked.stdout.contains("restore the newest backup"), "\(checked.stdout)\(checked.stderr)")
    }

    @Test("The commands that read leave a backup as it was: no numbers file is made until a number is taken")
    func readsMakeNothing() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        #expect(try await AutomatorProcess.run(["incident", "create", "--data", data, "--title", "Exfiltration",
                                                "--type", "dlp", "--severity", "high"]).status == 0)
        let backup = folder.url.appendingPathComponent("backup").path
        #expect(try await AutomatorProcess.run(["store", "backup", backup, "--data", data]).status == 0)
        let made = try FileManager.default.subpathsOfDirectory(atPath: backup).sorted()
        for command in [["incident", "list"], ["incident", "show", "INC-1"], ["report"], ["audit"], ["journal", "verify"],
                        ["store", "check"]] {
            let read = try await AutomatorProcess.run(command + ["--data", backup])
            #expect(read.status == 0, "\(command): \(read.stdout)\(read.stderr)")
        }
        let after = try FileManager.default.subpathsOfDirectory(atPath: backup).sorted()
        #expect(after == made, "made by reading: \(Set(after).subtracting(made).sorted())")
        #expect(!after.contains { $0.hasSuffix("-numbers") })
    }

    @Test("A folder this user may only read (a backup, an auditor's snapshot) is listed, verified and reported on; a write says why it cannot be made")
    func readOnly() async throws {
        let (folder, data) = try await Self.folderWithIncident()
        // Readable by all, writable by none; root writes anyway, so it reads as nobody.
        let paths = [folder.url.path, data] + (try FileManager.default.contentsOfDirectory(atPath: data)).map { data + "/" + $0 }
        for path in paths {
            var isFolder: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isFolder)
            try FileManager.default.setAttributes([.posixPermissions: isFolder.boolValue ? 0o555 : 0o444], ofItemAtPath: path)
        }
        defer { for path in paths { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path) } }
        func reader(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            let process = Process()
            if geteuid() == 0 {
                process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
                process.arguments = ["-u", "nobody", "--", AutomatorProcess.executable.path] + arguments
            } else {
                process.executableURL = AutomatorProcess.executable
                process.arguments = arguments
            }
            return try await AutomatorProcess.collect(process, input: nil)
        }

        let listed = try await reader(["incident", "list", "--data", data])
        #expect(listed.status == 0 && listed.stdout.contains("Exfiltration"), "\(listed.stdout)\(listed.stderr)")
        let verified = try await reader(["journal", "verify", "--data", data])
        #expect(verified.status == 0 && verified.stdout.contains("journal verified: 1 entry"), "\(verified.stdout)\(verified.stderr)")
        let report = try await reader(["report", "--data", data, "--format", "json"])
        #expect(report.status == 0 && report.stdout.contains("\"opened\""), "\(report.stdout)\(report.stderr)")
        let write = try await reader(["incident", "create", "--data", data, "--title", "x", "--type", "y", "--severity", "low"])
        #expect(write.status == 1 && write.stderr.contains("cannot be written"), "\(write.stdout)\(write.stderr)")
    }
}
