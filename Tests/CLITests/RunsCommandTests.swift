import Foundation
import TestSupport
import Testing

@Suite("automator runs, through a server and directly on the data folder", .timeLimit(.minutes(2)))
struct RunsCommandTests {
    /// A data folder with a server on it, one completed run and one sleeping run.
    struct Setting {
        let folder: TemporaryFolder
        let server: ServerProcess
        let done: String
        let sleeping: String
        var data: String { folder.url.appendingPathComponent("data").path }

        init() async throws {
            folder = try TemporaryFolder()
            try folder.write("scripts/verdict.lua", "local ip = ...\nreturn { ip = ip, verdict = 'benign' }\n")
            server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"))
            done = try await server.submit(#"{"script": "verdict.lua", "args": ["203.0.113.7"]}"#)
            _ = try await server.waitForRun(done)
            sleeping = try await server.submit(#"{"source": "time.sleep(3600)"}"#)
            _ = try await server.waitForRun(sleeping, status: "waiting")
        }

        func runs(_ arguments: [String], environment: [String: String] = [:]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(["runs"] + arguments + ["--data", data], environment: environment)
        }
    }

    @Test("list, show and kill go through the server that holds the folder")
    func throughServer() async throws {
        let setting = try await Setting()
        let (done, sleeping) = (setting.done, setting.sleeping)

        let list = try await setting.runs(["list"])
        #expect(list.status == 0, "\(list.stderr)")
        let lines = list.stdout.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID") == true && lines.first?.contains("CREATED (UTC)") == true)
        #expect(lines.count == 3)
        #expect(lines.dropFirst().first?.hasPrefix("\(sleeping)  waiting    api") == true, "\(list.stdout)")
        #expect(lines.last?.hasPrefix("\(done)  completed  verdict.lua") == true, "\(list.stdout)")
        let waiting = try await setting.runs(["list", "--status", "waiting"])
        #expect(waiting.stdout.split(separator: "\n").dropFirst().map { $0.prefix(sleeping.count) } == [sleeping[...]],
                "\(waiting.stdout)")
        #expect(try await setting.runs(["list", "--status", "running"]).stdout == "no running runs\n")

        let completed = try await setting.runs(["list", "--status", "completed", "--json"])
        #expect(completed.stdout == (try await setting.server.call("GET", "/api/v1/runs?status=completed")).body + "\n")

        let show = try await setting.runs(["show", done])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("status    completed\n"))
        #expect(show.stdout.contains(#"args      ["203.0.113.7"]"#))
        #expect(show.stdout.contains("result    [{"), "\(show.stdout)")
        let json = try await setting.runs(["show", done, "--json"])
        #expect(json.stdout == (try await setting.server.call("GET", "/api/v1/runs/\(done)")).body + "\n")

        let kill = try await setting.runs(["kill", sleeping])
        #expect(kill.status == 0, "\(kill.stderr)")
        #expect(kill.stdout.contains("status    killed\n"), "\(kill.stdout)")
        #expect(kill.stdout.hasSuffix("error     killed on request\n"), "the reason alone, no traceback: \(kill.stdout)")
        #expect(try await setting.server.waitForRun(sleeping)["status"] as? String == "killed")

        let again = try await setting.runs(["kill", sleeping])
        #expect(again.status == 1)
        #expect(again.stderr == "error: run \(sleeping) has already ended (killed)\n")
        let unknown = try await setting.runs(["show", "run-0000"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: no run run-0000: `automator runs list` shows the runs\n")

        // The server, not the database: a wrong token is refused.
        let refused = try await setting.runs(["list"], environment: ["AUTOMATOR_API_TOKEN": "wrong"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the server at \(setting.server.url) refused the API token"),
                "\(refused.stderr)")
    }

    @Test("With no server, list, show and kill work on the folder's database; the kill sticks")
    func directly() async throws {
        let setting = try await Setting()
        let (done, sleeping) = (setting.done, setting.sleeping)
        setting.server.terminate()
        #expect(await setting.server.waitForExit() == 0)

        let list = try await setting.runs(["list"])
        #expect(list.status == 0, "\(list.stderr)")
        // Its sleep's deadline, recorded as it began, is ahead.
        #expect(list.stdout.contains("\(sleeping)  waiting"), "\(list.stdout)")
        #expect(try await setting.runs(["list", "--status", "waiting"]).stdout.contains(sleeping))
        #expect(list.stdout.contains("\(done)  completed"), "\(list.stdout)")
        let show = try await setting.runs(["show", done, "--json"])
        #expect(show.stdout.hasPrefix(#"{"id":"\#(done)","script":"verdict.lua","status":"completed""#))

        let kill = try await setting.runs(["kill", sleeping])
        #expect(kill.status == 0, "\(kill.stderr)")
        #expect(kill.stdout.contains("status    killed\n"), "\(kill.stdout)")
        #expect(kill.stdout.contains("error     killed on request"), "\(kill.stdout)")
        let again = try await setting.runs(["kill", sleeping])
        #expect(again.status == 1)
        #expect(again.stderr == "error: run \(sleeping) has already ended (killed)\n")
        #expect(try await setting.runs(["kill", done]).status == 1)
        let unknown = try await setting.runs(["show", "run-0000"])
        #expect(unknown.status == 1)
        #expect(unknown.stderr == "error: no run run-0000: `automator runs list` shows the runs\n")
        let killed = try await setting.runs(["list", "--status", "killed"])
        #expect(killed.stdout.split(separator: "\n").count == 2 && killed.stdout.contains(sleeping), "\(killed.stdout)")

        let restarted = try await ServerProcess.start(data: URL(fileURLWithPath: setting.data),
                                                      scripts: setting.folder.url)
        #expect(restarted.log.contains("resumed 0 unfinished runs"), "the killed run does not resume: \(restarted.log)")
    }

    @Test("A playbook's run names its incident in the list, in show and in the JSON, through the server and without one")
    func incident() async throws {
        let folder = try TemporaryFolder()
        try folder.write("scripts/playbooks/ask.lua", """
            return playbook { name = "Ask", match = { type = "phishing" },
                              run = function(inc) inc:task{ title = "Ask the reporter" }:wait() end }
            """)
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"))
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Invoice", "type": "phishing", "severity": "low"}"#)
        let run = try #require(created.json["run"] as? String, "\(created.body)")
        _ = try await server.waitForRun(run, status: "waiting")
        #expect(try await server.call("GET", "/api/v1/runs/\(run)").json["incident"] as? String == "INC-1")
        for serving in [true, false] {
            if !serving {
                server.terminate()
                #expect(await server.waitForExit() == 0)
            }
            let list = try await AutomatorProcess.run(["runs", "list", "--data", data.path])
            let lines = list.stdout.split(separator: "\n")
            #expect(lines.first?.contains("  INCIDENT  CREATED (UTC)") == true, "\(list.stdout)")
            #expect(lines.last?.hasPrefix("\(run)  waiting  playbooks/ask.lua") == true
                    && lines.last?.contains("  INC-1     ") == true, "\(list.stdout)")
            let show = try await AutomatorProcess.run(["runs", "show", run, "--data", data.path])
            #expect(show.stdout.contains("incident  INC-1\n"), "\(show.stdout)")
        }
    }

    @Test("Usage errors exit 64 and say what to do", arguments: [
        (["runs", "list", "--status", "done"], "--status must be one of pending, running, waiting, completed"),
        (["runs", "list", "--limit", "0"], "--limit must be from 1 to 1000"),
        (["runs", "list", "--data", "/nonexistent/data"], "there is no data folder /nonexistent/data"),
        (["runs", "show"], "Missing expected argument '<id>'"),
        (["runs", "kill"], "Missing expected argument '<id>'"),
        (["runs", "stop", "run-1"], "automator runs has no command 'stop': its commands are list, show, kill"),
    ])
    func usage(arguments: [String], message: String) async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("automator-data"),
                                                withIntermediateDirectories: true)
        let result = try await AutomatorProcess.run(arguments, in: folder.url)
        #expect(result.stdout.isEmpty)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("--help teaches: where the runs come from, exit codes, examples")
    func help() async throws {
        let runs = try await AutomatorProcess.run(["runs", "--help"])
        #expect(runs.status == 0)
        for text in ["list", "show", "kill", "serve.lock", "AUTOMATOR_API_TOKEN", "Exit status", "Examples"] {
            #expect(runs.stdout.contains(text), "runs --help should mention \(text)")
        }
        for command in ["list", "show", "kill"] {
            let help = try await AutomatorProcess.run(["runs", command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Examples:") && help.stdout.contains("automator runs \(command)"))
            #expect(help.stdout.contains("--data"))
        }
    }
}

extension RunsCommandTests {
    /// The status line of `automator runs show RUN` on the data folder `data`.
    static func status(of run: String, in data: URL) async throws -> String {
        let show = try await AutomatorProcess.run(["runs", "show", run, "--data", data.path])
        #expect(show.status == 0, "\(show.stderr)")
        return String(try #require(show.stdout.split(separator: "\n").first { $0.hasPrefix("status ") }))
    }

    @Test("show names what a waiting run waits on: a timer, a question, an approval, a task; through the server and without one")
    func waitingOn() async throws {
        let folder = try TemporaryFolder()
        try folder.write("scripts/playbooks/isolate.lua", """
            return playbook { name = "Isolate", match = { type = "malware" }, run = function(inc)
              inc:task{ title = "Isolate ws-17\\nfrom the network", owner = "tier2", due = "2h" }:wait()
            end }
            """)
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"))
        let sleeping = try await server.submit(#"{"source": "time.sleep(3600)"}"#)
        let asking = try await server.submit(#"{"source": "return chat.ask('#soc', 'Is ws-17 yours?', {'yes', 'no'})"}"#)
        let approving = try await server.submit(#"{"source": "return chat.approve('#soc', 'Block 203.0.113.7?')"}"#)
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Beacon", "type": "malware", "severity": "high"}"#)
        let tasked = try #require(created.json["run"] as? String, "\(created.body)")
        for run in [sleeping, asking, approving, tasked] { _ = try await server.waitForRun(run, status: "waiting") }

        let json = try await server.call("GET", "/api/v1/runs/\(approving)").json
        let approval = try #require(json["waiting_on"] as? [String: Any], "\(json)")
        #expect(approval["kind"] as? String == "approval" && approval["channel"] as? String == "#soc"
                && approval["text"] as? String == "Block 203.0.113.7?" && (approval["id"] as? String)?.hasPrefix("Q-") == true,
                "\(approval)")
        #expect((try await server.call("GET", "/api/v1/runs").body).contains("waiting_on") == false, "a list leaves it out")
        let time = #/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/#
        for serving in [true, false] {
            if !serving {
                server.terminate()
                #expect(await server.waitForExit() == 0)
            }
            func status(_ run: String) async throws -> String { try await Self.status(of: run, in: data) }
            let timer = try await status(sleeping)
            #expect(timer.wholeMatch(of: #/status    waiting until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(timer\)/#) != nil, "\(timer)")
            let question = try await status(asking)
            #expect(question.hasPrefix("status    waiting on question Q-") && question.contains(" in #soc since ")
                    && question.hasSuffix(" UTC: Is ws-17 yours?") && question.contains(time), "\(question)")
            let approval = try await status(approving)
            #expect(approval.hasPrefix("status    waiting on approval Q-") && approval.hasSuffix(": Block 203.0.113.7?"),
                    "\(approval)")
            let task = try await status(tasked)
            #expect(task.hasPrefix("status    waiting on task T-1 (owner tier2, due ") && task.contains(time)
                    && task.hasSuffix(" UTC): Isolate ws-17"), "the title's first line: \(task)")
        }
    }
}

extension RunsCommandTests {
    @Test("show names the host call a running run is in and since when, through the server that holds it; with none, nothing")
    func inCall() async throws {
        let folder = try TemporaryFolder()
        let answers = HeldAnswers()
        let service = try await answers.server()
        defer { service.stop() }
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"),
                                                   arguments: ["--allow-http", "127.0.0.1:\(service.port)"])
        let fetch = #"{"source": "return http.get(... .. '/held').status", "args": ["\#(service.url)"]}"#
        let before = Date().addingTimeInterval(-1)
        let fetching = try await server.submit(fetch)
        try await answers.waitUntilAsked(1)

        let json = try await server.call("GET", "/api/v1/runs/\(fetching)").json
        #expect(json["status"] as? String == "running" && json["waiting_on"] == nil, "\(json)")
        let call = try #require(json["in_call"] as? [String: Any], "\(json)")
        #expect(call["name"] as? String == "http.get", "\(call)")
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let since = try #require((call["since"] as? String).flatMap(iso.date(from:)), "\(call)")
        #expect(since > before && since <= Date(), "\(since)")
        #expect((try await server.call("GET", "/api/v1/runs").body).contains("in_call") == false, "a list leaves it out")
        func status(_ run: String) async throws -> String { try await Self.status(of: run, in: data) }
        let shown = try await status(fetching)
        #expect(shown.wholeMatch(of: #/status    running in http\.get since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/#) != nil,
                "\(shown)")

        answers.release()
        let ended = try await server.waitForRun(fetching, status: "completed")
        #expect(ended["in_call"] == nil && ended["result"] as? [Int] == [200], "\(ended)")

        // Held in its call when the server dies: the store says running, and nobody knows more.
        let stranded = try await server.submit(fetch)
        try await answers.waitUntilAsked(2)
        server.kill()
        _ = await server.waitForExit()
        #expect(try await status(stranded) == "status    running")
    }
}
