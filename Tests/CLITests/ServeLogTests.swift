import Foundation
import GRDB
import Testing

@Suite("What automator serve says in its log for a watcher at 3 a.m.: failed runs, refused requests", .timeLimit(.minutes(2)))
struct ServeLogTests {
    @Test("A failed playbook run is one line: the run, the playbook, the incident, the error's first line")
    func failedRun() async throws {
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/playbooks/broken.lua", """
            return playbook {
              name = "Broken",
              match = { type = "malware" },
              run = function(inc)
                local host = nil
                inc:note("isolating " .. host.name)
              end,
            }
            """)
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"))
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Beacon", "type": "malware", "severity": "high"}"#)
        #expect(created.status == 201, "\(created.body)")
        #expect(try await server.waitForLog("failed (playbook Broken, INC-1): "), "\(server.log)")
        let line = try #require(server.log.split(separator: "\n").first { $0.contains("failed (playbook Broken") })
        #expect(line.contains("broken.lua:6: attempt to index a nil value (local 'host'); automator runs show "), "\(line)")
        #expect(!server.log.contains("stack traceback"), "the first line only: \(server.log)")
    }

    @Test("The start says the version, the scripts folder and its playbooks (the broken ones apart), and the chat networks")
    func startSummary() async throws {
        let folder = try TemporaryFolder()
        try folder.write("scripts/playbooks/phishing.lua", #"return playbook { name = "Phishing triage", run = function() end }"#)
        try folder.write("scripts/playbooks/malware.lua", #"return playbook { name = "Malware", run = function() end }"#)
        try folder.write("scripts/playbooks/broken.lua", "return playbook {\n  name = = 1,\n}\n")
        let scripts = folder.url.appendingPathComponent("scripts")
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: scripts)
        #expect(server.log.contains("""
            scripts in \(scripts.standardizedFileURL.path): 2 playbooks (Malware, Phishing triage); 1 file in playbooks/ \
            not used, said above
            """), "\(server.log)")
        #expect(server.log.contains("playbook not used: playbooks/broken.lua:2: "), "\(server.log)")
        #expect(server.log.contains(#/\] automator \d+\.\d+\.\d+, scripts in /#), "the version: \(server.log)")
        #expect(server.log.contains("chat: no network set up (chat.slack or chat.matrix in --config)"), "\(server.log)")
    }

    @Test("A data folder of an older automator is upgraded at the start, and the log says from which version to which")
    func schemaUpgrade() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let scripts = folder.url.appendingPathComponent("scripts")
        let first = try await ServerProcess.start(data: data, scripts: scripts)
        #expect(!first.log.contains("upgraded the schema"), "a new folder is made, not upgraded: \(first.log)")
        first.terminate()
        #expect(await first.waitForExit() == 0)
        // Back to v20, as the automator before chat_command (v21) left it.
        let database = try DatabaseQueue(path: data.path + "/automator.sqlite")
        try await database.write { db in
            try db.execute(sql: "DROP TABLE chat_command; DELETE FROM grdb_migrations WHERE identifier = 'v21'")
        }
        try database.close()

        let server = try await ServerProcess.start(data: data, scripts: scripts)
        #expect(server.log.contains("""
            upgraded the schema of \(data.path)/automator.sqlite from v20 to v21 for this automator (
            """), "\(server.log)")
        #expect(server.log.contains("an older one now refuses it, so going back means restoring the backup made before"))
    }

    @Test("--log-format json: every line of standard error is an object with time, level, label, message, source, and a script's fields as metadata")
    func jsonLines() async throws {
        let folder = try TemporaryFolder()
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   arguments: ["--executors", "1", "--log-format", "json"])
        let run = try await server.submit(#"{"source": "log.warn('isolating the host', {host = 'ws-17'}) return 1"}"#)
        #expect(try await server.waitForLog("isolating the host"), "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0)

        let lines = server.log.split(separator: "\n")
        let objects = try lines.map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
        }
        for object in objects {
            #expect(Set(object.keys).isSuperset(of: ["time", "level", "label", "message", "source"]), "\(object)")
            #expect((object["time"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil, "UTC, to the ms: \(object)")
            #expect(object["label"] as? String == "automator", "\(object)")
        }
        #expect(objects.contains { ($0["message"] as? String)?.hasPrefix("listening on http://127.0.0.1:") == true
                && $0["level"] as? String == "info" }, "\(server.log)")
        let warning = try #require(objects.first { $0["message"] as? String == "isolating the host" }, "\(server.log)")
        #expect(warning["level"] as? String == "warning")
        #expect(warning["metadata"] as? [String: String] == ["host": "ws-17", "run": run], "\(warning)")
    }

    @Test("--log-level warning leaves out the start's info lines and keeps the warnings; a script's log.info too")
    func levelWarning() async throws {
        let folder = try TemporaryFolder()
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   arguments: ["--executors", "1", "--log-level", "warning"])
        _ = try await server.submit(#"{"source": "log.info('looking it up') log.warn('no verdict') return 1"}"#)
        #expect(try await server.waitForLog("no verdict"), "\(server.log)")
        #expect(!server.log.contains(" info ") && !server.log.contains(" notice "), "\(server.log)")
        #expect(!server.log.contains("listening on") && !server.log.contains("looking it up"), "\(server.log)")
    }

    @Test("log: in the --config file sets the level and the format; the command line wins; a bad value names the choices")
    func logConfiguration() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data"), scripts = folder.url.appendingPathComponent("scripts")
        let config = try folder.write("automator.yml", "log:\n  level: warning\n  format: json\n")
        let server = try await ServerProcess.start(data: data, scripts: scripts,
                                                   arguments: ["--executors", "1", "--config", config])
        _ = try await server.submit(#"{"source": "log.info('looking it up') log.warn('no verdict') return 1"}"#)
        #expect(try await server.waitForLog("no verdict"), "\(server.log)")
        #expect(server.log.split(separator: "\n").allSatisfy { $0.hasPrefix("{") && $0.contains(#""level":"warning""#) },
                "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0)

        let overridden = try await ServerProcess.start(data: data, scripts: scripts,
                                                       arguments: ["--executors", "1", "--config", config,
                                                                   "--log-level", "info", "--log-format", "text"])
        #expect(overridden.log.contains(" info automator: [AutomatorServer] listening on "), "\(overridden.log)")
        overridden.terminate()
        #expect(await overridden.waitForExit() == 0)

        try folder.write("automator.yml", "log:\n  level: loud\n  format: yaml\n")
        let refused = try await AutomatorProcess.run(["serve", "--data", data.path, "--config", config])
        #expect(refused.status == 1)
        #expect(refused.stderr == """
            error: \(config):2: log.level: trace, debug, info, notice, warning, error, critical expected
            error: \(config):3: log.format: text, json expected

            """, "\(refused.stderr)")
        let mistyped = try await AutomatorProcess.run(["serve", "--data", data.path, "--log-format", "yaml"])
        #expect(mistyped.status == 64 && mistyped.stderr.contains("""
            error: The value 'yaml' is invalid for '--log-format <format>'. Please provide one of 'text' and 'json'.
            """), "\(mistyped.stderr)")
        let both = try await AutomatorProcess.run(["serve", "--data", data.path, "-v", "--log-level", "warning"])
        #expect(both.status == 64 && both.stderr.hasPrefix("""
            error: --verbose is --log-level debug: give one of them, not both (--log-level warning was given too)
            """), "\(both.stderr)")
    }

    @Test("Refused requests are logged with their path and peer, never the token, a line a minute at most")
    func refusedRequests() async throws {
        let folder = try TemporaryFolder()
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"))
        for guess in 1...20 {
            #expect(try await server.call("GET", "/api/v1/runs", credentials: .bearer("guess-\(guess)")).status == 401)
        }
        #expect(try await server.call("GET", "/metrics", credentials: .none).status == 401)
        #expect(try await server.call("GET", "/api/v1/runs").status == 200)
        let refused = server.log.split(separator: "\n").filter { $0.contains("refused ") }
        #expect(refused.count == 1 && refused[0].contains("refused GET /api/v1/runs from 127.0.0.1:")
                && refused[0].contains(": no valid API token"), "\(server.log)")
        #expect(!server.log.contains("guess-"), "no token in the log: \(server.log)")
    }
}
