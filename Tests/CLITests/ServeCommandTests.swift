import AutomatorRuntime
import Foundation
import TestSupport
import Testing

@Suite("automator serve, as a real process on loopback", .timeLimit(.minutes(2)))
struct ServeCommandTests {
    /// A scripts folder beside a data folder, in a temporary folder; `outside.lua` sits beside
    /// the scripts folder, where an escaping name would find it.
    struct Workspace {
        let folder: TemporaryFolder
        var scripts: URL { folder.url.appendingPathComponent("scripts") }
        var data: URL { folder.url.appendingPathComponent("data") }

        init() throws {
            folder = try TemporaryFolder()
            try folder.write("scripts/triage.lua", """
                local ip, options = ...
                time.sleep(0.01)
                return { ip = ip, verdict = options.verbose and "benign (checked)" or "benign" }, 1.0
                """)
            try folder.write("scripts/phishing/fail.lua", "local sender = ...\nerror('bad sender: ' .. sender)\n")
            try folder.write("scripts/broken.lua", "local x = 1\nif x then\n")
            try folder.write("outside.lua", "return 'outside the scripts folder'")
        }

        func start(environment: [String: String] = [:]) async throws -> ServerProcess {
            try await ServerProcess.start(data: data, scripts: scripts, environment: environment)
        }
    }

    @Test("Runs by script name and by source, with arguments, complete with their results as JSON")
    func happyPath() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()

        let byName = try await server.submit(#"{"script": "triage.lua", "args": ["203.0.113.7", {"verbose": true}]}"#)
        let run = try await server.waitForRun(byName)
        #expect(run["status"] as? String == "completed", "\(run)")
        #expect(run["script"] as? String == "triage.lua")
        #expect(run["args"] as? [Any] != nil)
        let result = try #require(run["result"] as? [Any], "the result is JSON, not a string: \(run)")
        let verdict = try #require(result.first as? [String: Any])
        #expect(verdict["ip"] as? String == "203.0.113.7")
        #expect(verdict["verdict"] as? String == "benign (checked)")
        #expect(run["error"] is NSNull)
        let iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/
        for field in ["created_at", "updated_at", "finished_at"] {
            #expect((run[field] as? String)?.wholeMatch(of: iso) != nil, "\(field): \(String(describing: run[field]))")
        }

        // Numbers keep their kind both ways: 40.0 reaches the script as a float, 1.0 comes back as 1.0.
        let bySource = try await server.submit(
            #"{"source": "local a, b = ... return math.type(a), math.type(b), a + b, 1.0", "args": [2, 40.0]}"#)
        _ = try await server.waitForRun(bySource)
        let shown = try await server.call("GET", "/api/v1/runs/\(bySource)")
        #expect(shown.status == 200)
        #expect(shown.headers["content-type"]?.hasPrefix("application/json") == true)
        #expect(shown.body.contains(#""script":"api","status":"completed","args":[2, 40.0],"#), "\(shown.body)")
        #expect(shown.body.contains(#""result":["integer","float",42.0,1.0],"error":null"#), "\(shown.body)")

        // A script's errors name its path inside the scripts folder.
        let failing = try await server.submit(#"{"script": "./phishing/fail.lua", "args": ["ceo@examp1e.com"]}"#)
        let failed = try await server.waitForRun(failing)
        #expect(failed["status"] as? String == "failed")
        #expect(failed["script"] as? String == "phishing/fail.lua")
        #expect((failed["error"] as? String)?.hasPrefix("phishing/fail.lua:2: bad sender: ceo@examp1e.com") == true,
                "\(failed)")
    }

    @Test("The API needs the token: 401 with WWW-Authenticate without it or with a wrong one, and nothing runs")
    func authentication() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let submission = #"{"source": "return 1"}"#
        for credentials in [ServerProcess.Credentials.none, .bearer("wrong"), .bearer(server.token + "0"),
                            .bearer(String(server.token.dropLast()))]
        {
            let answer = try await server.call("POST", "/api/v1/runs", body: submission, credentials: credentials)
            #expect(answer.status == 401, "\(credentials): \(answer.body)")
            #expect(answer.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
            #expect((answer.json["error"] as? String)?.contains("Authorization: Bearer") == true, "\(answer.body)")
            #expect(try await server.call("GET", "/api/v1/runs", credentials: credentials).status == 401)
        }
        let runs = try await server.call("GET", "/api/v1/runs")
        #expect(runs.status == 200)
        #expect(runs.body == #"{"runs":[]}"#, "nothing ran without the token")

        let health = try await server.call("GET", "/healthz", credentials: .none)
        #expect(health.status == 200)
        #expect(health.body == #"{"status":"ok","chat":[],"integrations_failing":[],"integrations_paused":[],"integrations_lookups_failing":[],"fetches_failing":[],"playbooks_failing":[]}"#)
    }

    @Test("Bad requests get the right status and a message that says what to do; none starts a run")
    func badRequests() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let cases: [(body: String, status: Int, message: String)] = [
            (#"{"script": "missing.lua"}"#, 404, "no script missing.lua in the scripts folder"),
            (#"{"script": "../outside.lua"}"#, 400, #"the script name "../outside.lua" is not a path inside"#),
            (#"{"script": "phishing/../../outside.lua"}"#, 400, "is not a path inside the scripts folder"),
            (#"{"script": "\#(workspace.folder.url.path)/outside.lua"}"#, 400, "is not a path inside the scripts"),
            (#"{"source": "if x then"}"#, 400, "the script does not compile: api:1: 'end' expected near <eof>"),
            (#"{"script": "broken.lua"}"#, 400, "the script does not compile: broken.lua:3: 'end' expected"),
            ("{not json", 400, "the body is not valid JSON"),
            ("", 400, "the body is not valid JSON"),
            (#"["return 1"]"#, 400, "the body must be a JSON object"),
            (#"{"source": "return 1", "priority": "high"}"#, 400, #"unknown field "priority""#),
            (#"{"source": "return 1", "args": {"ip": "203.0.113.7"}}"#, 400, "args must be a JSON array"),
            (#"{"source": "return 1", "args": "203.0.113.7"}"#, 400, "args must be a JSON array"),
            (#"{"args": []}"#, 400, #"the run needs "script" or "source""#),
            (#"{"script": "triage.lua", "source": "return 1"}"#, 400, "not both"),
            (#"{"script": 7}"#, 400, #""script" and "source" are strings"#),
        ]
        for (body, status, message) in cases {
            let answer = try await server.call("POST", "/api/v1/runs", body: body)
            #expect(answer.status == status, "\(body): \(answer.body)")
            #expect((answer.json["error"] as? String)?.contains(message) == true, "\(body): \(answer.body)")
        }

        let oversize = #"{"source": "-- "# + String(repeating: "x", count: 1 << 20) + #""}"#
        let tooLarge = try await server.call("POST", "/api/v1/runs", body: oversize)
        #expect(tooLarge.status == 413)
        #expect((tooLarge.json["error"] as? String)?.contains("over the limit of 1 MiB") == true, "\(tooLarge.body)")
        // The endpoints that take a small object answered past 64 KiB with an empty 413.
        let padded = #"{"text": ""# + String(repeating: "x", count: 70_000) + #""}"#
        for path in ["/api/v1/actions", "/api/v1/tokens", "/api/v1/questions/q-1/answer", "/api/v1/incidents/INC-1/command"] {
            let answer = try await server.call("POST", path, body: padded)
            #expect(answer.status == 413, "\(path)")
            #expect((answer.json["error"] as? String)?.contains("over the limit of 64 KiB: send a small JSON object, such as {")
                == true, "\(path): \(answer.body)")
        }

        let badStatus = try await server.call("GET", "/api/v1/runs?status=done")
        #expect(badStatus.status == 400)
        #expect((badStatus.json["error"] as? String)?.contains(
            "use one of pending, running, waiting, completed, failed, killed, diverged") == true, "\(badStatus.body)")
        #expect(try await server.call("GET", "/api/v1/runs?limit=0").status == 400)
        #expect(try await server.call("GET", "/api/v1/runs/run-0000").status == 404)
        let nowhere = try await server.call("GET", "/api/v1/nowhere")
        #expect(nowhere.status == 404)
        #expect(nowhere.json["error"] as? String == "no endpoint GET /api/v1/nowhere: automator serve --help lists the API's")

        #expect(try await server.call("GET", "/api/v1/runs").body == #"{"runs":[]}"#)
    }

    @Test("A kill stops a sleeping run (killed); a second kill is 409, an unknown run 404")
    func kill() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let id = try await server.submit(#"{"source": "time.sleep(3600)"}"#)
        _ = try await server.waitForRun(id, status: "waiting")

        let killed = try await server.call("POST", "/api/v1/runs/\(id)/kill")
        #expect(killed.status == 200, "\(killed.body)")
        #expect(killed.json["status"] as? String == "killed")
        #expect((killed.json["error"] as? String)?.contains("killed on request") == true, "\(killed.body)")
        #expect(killed.json["finished_at"] is String)
        #expect(try await server.waitForRun(id)["status"] as? String == "killed")

        let again = try await server.call("POST", "/api/v1/runs/\(id)/kill")
        #expect(again.status == 409)
        #expect((again.json["error"] as? String)?.contains("has already ended (killed)") == true, "\(again.body)")
        #expect(try await server.call("POST", "/api/v1/runs/run-0000/kill").status == 404)
    }

    @Test("The list is newest first, filtered by status and limited")
    func list() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let done = try await server.submit(#"{"source": "return 'done'"}"#)
        _ = try await server.waitForRun(done)
        let sleeping = try await server.submit(#"{"source": "time.sleep(3600)"}"#)
        _ = try await server.waitForRun(sleeping, status: "waiting")

        func ids(_ query: String) async throws -> [String] {
            let answer = try await server.call("GET", "/api/v1/runs" + query)
            #expect(answer.status == 200, "\(answer.body)")
            return (answer.json["runs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        }
        #expect(try await ids("") == [sleeping, done])
        #expect(try await ids("?status=completed") == [done])
        #expect(try await ids("?status=waiting") == [sleeping])
        #expect(try await ids("?status=running").isEmpty)
        #expect(try await ids("?status=failed").isEmpty)
        #expect(try await ids("?limit=1") == [sleeping])
    }

    @Test("SIGTERM stops at once, leaves a sleeping run unfinished, and the next start completes it")
    func gracefulStop() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let id = try await server.submit(#"{"source": "log.info('going to sleep') time.sleep(1) return 'woke up'"}"#)
        while !server.log.contains("going to sleep") { try await Task.sleep(for: .milliseconds(10)) }

        let stopping = Date()
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
        #expect(Date().timeIntervalSince(stopping) < 10)
        #expect(server.log.contains("stopping: 1 unfinished run will resume at the next start"), "\(server.log)")

        let stored = try await AutomatorProcess.run(["runs", "show", id, "--json", "--data", workspace.data.path])
        #expect(stored.status == 0, "\(stored.stderr)")
        // Running, or waiting while its second lasts.
        #expect(stored.stdout.contains(#""status":"running""#) || stored.stdout.contains(#""status":"waiting""#),
                "unfinished in the store: \(stored.stdout)")

        let restarted = try await workspace.start()
        #expect(restarted.log.contains("resumed 1 unfinished run from"), "\(restarted.log)")
        let run = try await restarted.waitForRun(id)
        #expect(run["status"] as? String == "completed", "\(run)")
        #expect(run["result"] as? [String] == ["woke up"])
        restarted.terminate()
        #expect(await restarted.waitForExit() == 0)
    }

    @Test("SIGHUP does not stop serve: it reads --config again, and says when there is nothing to change or the file does not load")
    func hangUp() async throws {
        let workspace = try Workspace()
        try workspace.folder.write("automator.yml", "chat:\n  roles:\n    approver: [alice]\n")
        let config = workspace.folder.url.appendingPathComponent("automator.yml").path
        let server = try await ServerProcess.start(data: workspace.data, scripts: workspace.scripts,
                                                   arguments: ["--executors", "1", "--config", config])

        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: \(config) read again, nothing to change now"), "\(server.log)")
        try workspace.folder.write("automator.yml", "chat:\n  roles: [\n")
        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: \(config) does not load, so nothing changed: \(config):"),
                "\(server.log)")
        #expect(server.log.contains("This serve goes on with the configuration it had"))
        #expect(try await server.call("GET", "/healthz").status == 200, "still serving")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("The log's times are UTC whatever TZ says, as the CLI's, the journal's and the reports' are")
    func logInUTC() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start(environment: ["TZ": "Asia/Kolkata"])
        #expect(try await server.waitForLog("listening on"), "\(server.log)")
        let stamps = server.log.split(separator: "\n").compactMap { $0.split(separator: " ").first }
        #expect(!stamps.isEmpty && stamps.allSatisfy { $0.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil },
                "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("The first start makes a 0600 token file and says where, never logging the token; later starts reuse it")
    func tokenFile() async throws {
        let workspace = try Workspace()
        let first = try await workspace.start()
        let file = workspace.data.appendingPathComponent("api-token").path
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(first.token.wholeMatch(of: /[0-9a-f]{64}/) != nil, "32 random bytes in hexadecimal")
        #expect(!first.log.contains(first.token) && first.log.contains("kept in \(file)"), "\(first.log)")
        first.terminate()
        #expect(await first.waitForExit() == 0)

        let second = try await workspace.start()
        #expect(second.token == first.token)
        #expect(!second.log.contains(first.token))
        #expect(try await second.call("GET", "/api/v1/runs").status == 200)
        second.terminate()
        #expect(await second.waitForExit() == 0)

        // A token file others can read is refused, with the fix.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        let exposed = try await AutomatorProcess.run(
            ["serve", "--data", workspace.data.path, "--http", "127.0.0.1:0"])
        #expect(exposed.status == 1)
        #expect(exposed.stderr.contains("can be read by other users (mode 644): run `chmod 600 \(file)`"),
                "\(exposed.stderr)")
    }

    @Test("AUTOMATOR_API_TOKEN, when set, is the token, and no file is made")
    func tokenFromEnvironment() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start(environment: ["AUTOMATOR_API_TOKEN": "s3cret-for-tests"])
        #expect(!FileManager.default.fileExists(atPath: workspace.data.appendingPathComponent("api-token").path))
        #expect(!server.log.contains("s3cret-for-tests"))
        #expect(try await server.call("GET", "/api/v1/runs").status == 200)
        #expect(try await server.call("GET", "/api/v1/runs", credentials: .bearer("s3cret")).status == 401)
    }

    @Test("A second serve on the same data folder, or on a port in use, fails at once and says why")
    func secondServer() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let lock = try String(contentsOf: workspace.data.appendingPathComponent("serve.lock"), encoding: .utf8)
        #expect(lock.contains(server.url), "the lock file tells clients where the server is: \(lock)")

        let second = try await AutomatorProcess.run(
            ["serve", "--data", workspace.data.path, "--http", "127.0.0.1:0", "--scripts", workspace.scripts.path])
        #expect(second.status == 1)
        #expect(second.stderr.contains("""
            error: the data folder \(workspace.data.path) is in use by another automator serve (pid \(server.pid), \
            listening on \(server.url)): stop it first, or pass --data with another folder
            """), "\(second.stderr)")

        let address = String(server.url.dropFirst("http://".count))
        let samePort = try await AutomatorProcess.run(
            ["serve", "--data", workspace.folder.url.appendingPathComponent("other").path, "--http", address])
        #expect(samePort.status == 1)
        #expect(samePort.stderr.contains("error: could not listen on \(address) (Address already in use)"),
                "\(samePort.stderr)")

        #expect(try await server.call("GET", "/healthz").status == 200, "the first server is unaffected")
    }

    @Test("An --http that is no address says what is wrong with it and what would do, before touching the folder")
    func badListenAddress() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        for (address, reason) in [
            ("8080", "give the host and the port: 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (every interface)"),
            (":8080", "give the host: 127.0.0.1:8080 (this machine only) or 0.0.0.0:8080 (every interface)"),
            ("localhost", "give the host and the port: localhost:8080"),
            ("127.0.0.1:99999", #"the port "99999" is not one: a number from 1 to 65535, or 0 to let the system pick one"#),
            ("127.0.0.1:http", #"the port "http" is not one: a number from 1 to 65535"#),
            ("::1:8080", "an IPv6 address goes in brackets: [::1]:8080"),
        ] {
            let refused = try await AutomatorProcess.run(["serve", "--data", data, "--http", address])
            #expect(refused.status == 64 && refused.stderr.contains(
                "error: The value '\(address)' is invalid for '--http <host:port>': \(reason)"), "\(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: data), "nothing made")
    }

    @Test("A scripts folder that does not exist is refused at start, with its full path, before the data folder is made")
    func missingScripts() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        let refused = try await AutomatorProcess.run(["serve", "--data", data, "--http", "127.0.0.1:0",
                                                      "--scripts", "scirpts"], in: folder.url)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("error: there is no scripts folder \(folder.url.path)/scirpts: pass --scripts"),
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: data), "nothing made")
    }

    @Test("A serve that cannot listen says so and exits before resuming its folder's runs, with no errors from its stop")
    func portInUseResumesNothing() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        // Another folder, with a signing key (the stop signs a checkpoint) and a run left unfinished.
        let other = workspace.folder.url.appendingPathComponent("other")
        let killed = try await ServerProcess.start(data: other, scripts: workspace.scripts)
        _ = try await killed.submit(#"{"source": "time.sleep(60) return 1"}"#)
        killed.kill()
        _ = await killed.waitForExit()
        #expect(try await AutomatorProcess.run(["journal", "checkpoint", "--data", other.path]).status == 0)

        let address = String(server.url.dropFirst("http://".count))
        let samePort = try await AutomatorProcess.run(
            ["serve", "--data", other.path, "--http", address, "--scripts", workspace.scripts.path])
        #expect(samePort.status == 1)
        #expect(samePort.stderr.contains("error: could not listen on \(address) (Address already in use)"),
                "\(samePort.stderr)")
        #expect(!samePort.stderr.contains("resumed"), "nothing resumed: \(samePort.stderr)")
        #expect(samePort.stderr.split(separator: "\n").filter { $0.contains("error") }.count == 1,
                "only the reason it stops: \(samePort.stderr)")
    }

    @Test("A folder without a signing key is told once at start that no checkpoint is signed, and what makes the key")
    func checkpointsOff() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        let off = "journal checkpoints are off: this data folder has no signing key"
        #expect(try await server.waitForLog(off), "\(server.log)")
        #expect(server.log.contains("automator journal checkpoint --data \(workspace.data.path) makes the key"), "\(server.log)")
        let opened = try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#)
        #expect(opened.status == 201, "a journal entry to sign")
        server.terminate()
        _ = await server.waitForExit()
        #expect(server.log.components(separatedBy: off).count == 2, "once: \(server.log)")

        // Signed once, then the key lost: a new key is a person's decision, which the log names.
        #expect(try await AutomatorProcess.run(["journal", "checkpoint", "--data", workspace.data.path]).status == 0)
        try FileManager.default.removeItem(at: workspace.data.appendingPathComponent("journal-signing.key"))
        let restarted = try await workspace.start()
        #expect(try await restarted.waitForLog("but the journal holds 1 checkpoint signed with it"), "\(restarted.log)")
        #expect(restarted.log.contains("automator journal checkpoint --new-key --data \(workspace.data.path)"),
                "\(restarted.log)")
        restarted.terminate()
        _ = await restarted.waitForExit()
    }

    @Test("The chat's runs and edited messages' texts are deleted a week after, from the start on; a playbook's runs stay for reports")
    func chatRunsSwept() async throws {
        let workspace = try Workspace()
        let finished = Date() - ChatSweeper.kept - 3600
        let recent = Date() - ChatSweeper.kept + 3600
        do {
            let store = try SQLiteStore(folder: workspace.data.path)
            for (id, entry, at) in [("run-old-chat", "chat:alice", finished), ("run-old-playbook", "playbook:run", finished),
                                    ("run-recent-chat", "chat:alice", recent)]
            {
                let run = RunRecord(id: RunID(id), script: "commands/watch.lua", source: Array("return 1".utf8),
                                    entry: entry, createdAt: at)
                try await store.write(.createRun(run))
                try await store.write(.updateRun(RunUpdate(run.id, status: .completed, at: at)))
            }
            for (message, at) in [("$old", finished), ("$recent", recent)] {
                try await store.write(.keepEditedText(ChatEditedText(network: "matrix", channel: "!r:example.org",
                                                                     message: message, text: "edited", at: at)))
            }
            await store.close()
        }
        let server = try await workspace.start()
        #expect(try await server.waitForLog("deleted 1 chat run finished over a week ago"), "\(server.log)")
        #expect(try await server.waitForLog("deleted the texts of 1 edited message kept over a week"), "\(server.log)")
        server.terminate()
        _ = await server.waitForExit()
        let store = try SQLiteStore(folder: workspace.data.path)
        #expect(try await store.loadRun(RunID("run-old-chat")) == nil)
        #expect(try await store.loadRun(RunID("run-old-playbook")) != nil)
        #expect(try await store.loadRun(RunID("run-recent-chat")) != nil)
        #expect(try await store.editedText(network: "matrix", channel: "!r:example.org", message: "$old") == nil)
        #expect(try await store.editedText(network: "matrix", channel: "!r:example.org", message: "$recent") == "edited")
        await store.close()
    }

    @Test("After a serve killed with SIGKILL, a command holding the folder is named, not the dead server the lock file names")
    func deadServerInTheLock() async throws {
        let workspace = try Workspace()
        let dead = try await workspace.start()
        dead.kill()
        #expect(await dead.waitForExit() == SIGKILL)
        let lock = try String(contentsOf: workspace.data.appendingPathComponent("serve.lock"), encoding: .utf8)
        #expect(lock.contains("\(dead.pid)"), "the dead server's name stays in the file: \(lock)")

        // `automator chat` holds the folder (shared) while its input is open.
        let chat = Process()
        chat.executableURL = AutomatorProcess.executable
        chat.arguments = ["chat", "--data", workspace.data.path, "--scripts", workspace.scripts.path]
        let input = Pipe()
        chat.standardInput = input
        chat.standardOutput = FileHandle.nullDevice
        chat.standardError = FileHandle.nullDevice
        let exit = ExitWatcher(chat)
        try chat.run()
        defer { try? input.fileHandleForWriting.close() }
        let deadline = ContinuousClock.now + .seconds(30)
        while !((try? String(contentsOfFile: "/proc/locks", encoding: .utf8))?.contains(" \(chat.processIdentifier) ") ?? false) {
            #expect(ContinuousClock.now < deadline, "automator chat did not take the folder")
            try await Task.sleep(for: .milliseconds(20))
        }

        let refused = try await AutomatorProcess.run(
            ["serve", "--data", workspace.data.path, "--http", "127.0.0.1:0", "--scripts", workspace.scripts.path])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("""
            is in use by another automator process (pid \(chat.processIdentifier): \(AutomatorProcess.executable.path) chat \
            --data \(workspace.data.path)
            """), "\(refused.stderr)")
        #expect(!refused.stderr.contains("\(dead.pid)"), "\(refused.stderr)")
        try input.fileHandleForWriting.close()
        #expect(await exit.status() == 0)
    }

    @Test("A damaged database or a read-only data folder stops serve at start, saying what to do; nothing is changed")
    func badDataFolder() async throws {
        let workspace = try Workspace()
        try FileManager.default.createDirectory(at: workspace.data, withIntermediateDirectories: true)
        let database = workspace.data.appendingPathComponent("automator.sqlite")
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: database)
        let damaged = try await AutomatorProcess.run(
            ["serve", "--data", workspace.data.path, "--http", "127.0.0.1:0", "--scripts", workspace.scripts.path])
        #expect(damaged.status == 1)
        #expect(damaged.stderr.contains("error: the database at \(database.path) is not a valid Automator database"),
                "\(damaged.stderr)")
        #expect(damaged.stderr.contains("restore it from a backup or move it aside"))
        #expect(try Data(contentsOf: database) == garbage, "the damaged file is left as it was")
        let listed = try await AutomatorProcess.run(["runs", "list", "--data", workspace.data.path])
        #expect(listed.status == 1)
        #expect(listed.stderr.contains("not a valid Automator database"), "\(listed.stderr)")
    }

    @Test("A store failure (a full disk) is 503 with the store's message, for a run and for an incident with its playbook; the server stays up, degraded in /healthz and /metrics, and says it in its log once; freed space is seen without a write",
          .enabled(if: Tmpfs.isAvailable))
    func storeFailure() async throws {
        let workspace = try Workspace()
        try workspace.folder.write("scripts/playbooks/contain.lua", """
            return playbook { name = "Contain", match = { type = "malware" }, run = function(inc) end }
            """)
        let tmpfs = try Tmpfs(size: "2m")
        let server = try await ServerProcess.start(data: URL(fileURLWithPath: tmpfs.path + "/data"),
                                                   scripts: workspace.scripts)
        tmpfs.fill(tmpfs.path + "/filler")

        let refused = try await server.call("POST", "/api/v1/runs", body: #"{"source": "return 1"}"#)
        #expect(refused.status == 503, "\(refused.body)")
        #expect((refused.json["error"] as? String)?.contains("is full") == true, "\(refused.body)")
        // Not a 400: the sender of an alert drops what is refused, and tries again later on a 503.
        let incident = try await server.call("POST", "/api/v1/incidents",
                                             body: #"{"title": "EDR alert", "type": "malware", "severity": "high"}"#)
        #expect(incident.status == 503, "\(incident.body)")
        // Up, reading, and saying why nothing new is kept: for the monitoring, not the load balancer.
        let degraded = try await server.call("GET", "/healthz")
        #expect(degraded.status == 200 && degraded.json["status"] as? String == "degraded"
                && (degraded.json["store_problem"] as? String)?.contains("is full") == true, "\(degraded.body)")
        #expect(try await server.call("GET", "/metrics").body.contains("\nautomator_store_writable 0\n"))
        // The log says it once, for the operator who reads it after the 503s.
        #expect(try await server.waitForLog("error automator: [AutomatorServer] the store refuses writes: the disk holding"),
                "\(server.log)")

        // Freed while nothing writes (no alert comes in): health, the metric and the log recover on their own.
        try FileManager.default.removeItem(atPath: tmpfs.path + "/filler")
        #expect(try await server.waitForLog("the store takes writes again, after"), "\(server.log)")
        let healthy = try await server.call("GET", "/healthz")
        #expect(healthy.json["status"] as? String == "ok" && healthy.json["store_problem"] == nil, "\(healthy.body)")
        #expect(try await server.call("GET", "/metrics").body.contains("\nautomator_store_writable 1\n"))
        let id = try await server.submit(#"{"source": "return 1"}"#)
        #expect(try await server.waitForRun(id)["status"] as? String == "completed")
        #expect(server.log.components(separatedBy: "the store refuses writes").count == 2, "once: \(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("A serve restarted on a full disk writes its address into serve.lock all the same: the commands on its folder reach it",
          .enabled(if: Tmpfs.isAvailable))
    func fullDiskRestart() async throws {
        let workspace = try Workspace()
        let tmpfs = try Tmpfs(size: "2m")
        let data = URL(fileURLWithPath: tmpfs.path + "/data")
        let first = try await ServerProcess.start(data: data, scripts: workspace.scripts)
        first.terminate()
        #expect(await first.waitForExit() == 0)
        tmpfs.fill(tmpfs.path + "/filler")

        let server = try await ServerProcess.start(data: data, scripts: workspace.scripts)
        let listed = try await AutomatorProcess.run(["runs", "list", "--data", data.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        #expect(!server.log.contains("could not write"), "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("/metrics logs a store error that is not an outage once, not at every scrape; another error once more")
    func metricsStoreError() async throws {
        let workspace = try Workspace()
        let server = try await workspace.start()
        func scrape() async throws -> String { try await server.call("GET", "/metrics").body }
        #expect(try await scrape().contains("\nautomator_store_up 1\n"))
        let told = "/metrics: the store's counts cannot be read, so automator_store_up is 0 until they can"
        for table in ["chat_question", "task"] {
            let dropped = try await AutomatorProcess.python("""
                import sqlite3, sys
                database = sqlite3.connect(sys.argv[1], timeout=10)
                database.execute("DROP TABLE " + sys.argv[2])
                database.commit()
                """, arguments: [workspace.data.appendingPathComponent("automator.sqlite").path, table])
            #expect(dropped.status == 0, "\(dropped.stderr)")
            for _ in 0..<3 { #expect(try await scrape().contains("\nautomator_store_up 0\n")) }
            let lines = server.log.split(separator: "\n").filter { $0.contains(told) }
            #expect(lines.count == (table == "task" ? 2 : 1), "\(server.log)")
            #expect(lines.last?.contains(table) == true, "the store's error names the table: \(lines)")
        }
    }

    @Test("--lease and --dedup-window take durations with their unit: a bare number is refused with a hint, as --since is")
    func durationOptions() async throws {
        let workspace = try Workspace()
        for (arguments, hint) in [(["--lease", "30"], "--lease wants its unit, as in 30s (seconds)"),
                                  (["--dedup-window", "60"], "--dedup-window wants its unit, as in 60s (seconds)")]
        {
            // A configuration that is not there: a serve that took the option would stop at once, not serve.
            let result = try await AutomatorProcess.run(["serve", "--data", workspace.data.path, "--config", "nowhere.yml"]
                                                        + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(hint + "; the units are s, m, h, d and w: 90s, 15m, 4h, 2d, 1w"),
                    "\(result.stderr)")
        }
        let server = try await ServerProcess.start(data: workspace.data, scripts: workspace.scripts,
                                                   arguments: ["--executors", "1", "--dedup-window", "0",
                                                               "--lease", "2m"])
        #expect(try await server.call("GET", "/healthz").status == 200, "a bare 0 needs no unit")
        let help = try await AutomatorProcess.run(["serve", "--help"])
        let unwrapped = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(unwrapped.contains("with its unit (s, m, h): 10s, 1m"), "\(help.stdout)")
        #expect(unwrapped.contains("with its unit (s, m, h, d, w): 30m, 24h, 7d; 0 for never"), "\(help.stdout)")
    }

    @Test("--help teaches: the API, the token, stopping, examples")
    func help() async throws {
        let result = try await AutomatorProcess.run(["serve", "--help"])
        #expect(result.status == 0)
        // Every endpoint: a 404 sends people here.
        for endpoint in ["POST /api/v1/runs", "GET  /api/v1/runs/ID", "GET  /api/v1/runs ", "POST /api/v1/runs/ID/kill",
                         "POST /api/v1/incidents ", "POST /api/v1/ingest/SOURCE", "GET  /api/v1/incidents ",
                         "GET  /api/v1/incidents/ID ", "PATCH /api/v1/incidents/ID ", "GET  /api/v1/incidents/ID/journal",
                         "POST /api/v1/incidents/ID/journal", "POST /api/v1/incidents/ID/command",
                         "POST /api/v1/incidents/ID/retry", "POST /api/v1/incidents/ID/playbook", "GET  /api/v1/tasks ",
                         "POST /api/v1/tasks/ID/complete", "PATCH /api/v1/tasks/ID ", "GET  /api/v1/playbooks", "GET  /api/v1/questions ", "POST /api/v1/questions/ID/answer",
                         "GET  /api/v1/intel/reputation", "GET  /api/v1/intel/export", "GET  /api/v1/report",
                         "GET  /api/v1/audit", "GET  /api/v1/tokens", "POST /api/v1/tokens ",
                         "POST /api/v1/tokens/NAME/revoke", "/slack/events", "/slack/interactions", "/slack/commands", "GET  /healthz", "GET  /metrics"]
        {
            #expect(result.stdout.contains(endpoint), "serve --help should list \(endpoint)")
        }
        for text in ["AUTOMATOR_API_TOKEN", "api-token", "personal token", "SIGTERM", "SIGHUP", "resume", "--data", "--http", "--scripts",
                     "--executors", "--timeout", "--memory", "--allow-http", "Exit status", "Examples"]
        {
            #expect(result.stdout.contains(text), "serve --help should mention \(text)")
        }
        let top = try await AutomatorProcess.run(["--help"])
        #expect(top.stdout.contains("serve") && top.stdout.contains("runs"))
    }
}
