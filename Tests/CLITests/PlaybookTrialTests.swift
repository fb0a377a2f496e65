import Foundation
import Testing

@Suite("automator run --incident: a playbook against an incident file, with no server")
struct PlaybookTrialTests {
    /// The repository's scripts folder: the shipped playbooks and their example incidents.
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    @Test("Each shipped playbook runs to the close on its example incident, asking its tasks on standard input",
          arguments: [
              ("phishing", "phishing\n3 copies removed\n", "Phishing: the message was purged from all mailboxes."),
              // The EDR contains the host (a dry run here): no isolation task, only the cleaning.
              ("malware", "cleaned\n", "Trojan:Win32/Stealer.PDX on WS-FIN-0231: host cleaned."),
              ("impossible_travel", "not me\ndone\n", nil),
              // A trial sends nothing, so the lookup of the host in Falcon answers nothing: tier 2 isolates it.
              ("c2_traffic", "isolated\nreimaged\n",
               "C2 traffic from 10.20.4.31 to 198.51.100.7: host reimaged, 198.51.100.7 blocked for 7d."),
              // The key's disabling is a dry run here; tier 2 reviews and rotates.
              ("cloud_credential_misuse", "rotated\n",
               "Credential misuse: deploy-bot's credentials rotated, CloudTrail reviewed."),
          ])
    func shippedPlaybooks(_ name: String, answers: String, reason: String?) async throws {
        let result = try await AutomatorProcess.run(
            ["run", "playbooks/\(name).lua", "--incident", "examples/incidents/\(name).json", "--scripts", "."],
            in: Self.scripts, input: answers)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("task T-1"), "\(result.stdout)")
        #expect(result.stdout.contains("playbook completed in"), "\(result.stdout)")
        #expect(result.stdout.contains("INC-1 is closed"), "\(result.stdout)")
        if let reason { #expect(result.stdout.contains("closed: \(reason)"), "\(result.stdout)") }
        if name == "cloud_credential_misuse" {
            #expect(result.stdout.contains("dry run, nothing sent: would run aws.disable_access_key"), "\(result.stdout)")
        }
        if name == "malware" {
            #expect(result.stdout.contains("dry run, nothing sent: would run crowdstrike.contain_host device_id="),
                    "\(result.stdout)")
        }
        if name == "phishing" {
            #expect(result.stdout.contains("evidence  evidence EV-") && result.stdout.contains("reported-message.json"),
                    "the trial keeps evidence as serve does: \(result.stdout)")
        }
    }

    @Test("make demo: the phishing playbook with the example configuration gives verdicts, and plans the firewall block")
    func demo() async throws {
        let result = try AutomatorProcess.run(
            ["run", "playbooks/phishing.lua", "--incident", "examples/incidents/phishing.json", "--scripts", ".",
             "--config", "examples/automator.yml"], in: Self.scripts, input: "phishing\n3 copies removed\n")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains(#"203.0.113.45  malicious: 1 of 1 source; local feed "bad-ips""#), "\(result.stdout)")
        #expect(result.stdout.contains("Severity medium -> high: 203.0.113.45 is known malicious."), "\(result.stdout)")
        #expect(result.stdout.contains("dry run, nothing sent: would run checkpoint.block_ip ip=203.0.113.45"), "\(result.stdout)")
        #expect(result.stdout.contains("INC-1 is closed"), "\(result.stdout)")
    }

    @Test("A trial's actions are dry runs: checked against the configuration, journaled, never sent")
    func actions() async throws {
        let folder = try TemporaryFolder()
        try folder.write("act/playbooks/contain.lua", """
            return playbook {
              name = "Contain", match = { type = "c2" },
              run = function(inc)
                local planned = actions.run("checkpoint.block_ip", { ip = inc.fields.ip }, { incident = inc })
                inc:note("block: " .. planned.status)
                local ok, refused = pcall(actions.run, "checkpoint.block_ip", { ip = "10.1.2.3" }, { incident = inc })
                inc:note("protected: " .. tostring(refused))
              end,
            }
            """)
        try FileManager.default.copyItem(at: Self.scripts.appendingPathComponent("integrations"),
                                         to: folder.url.appendingPathComponent("act/integrations"))
        try folder.write("act/inc.json", #"{"title": "C2", "type": "c2", "severity": "high", "fields": {"ip": "198.51.100.7"}}"#)
        // Settings that reach nothing: a send would fail, and there is none.
        try folder.write("act/automator.yml", """
            integrations:
              checkpoint: { base_url: "http://127.0.0.1:9/web_api", api_key: cp-api-key }
            actions:
              protected: { networks: [10.0.0.0/8] }
            """)
        let result = try await AutomatorProcess.run(["run", "act/playbooks/contain.lua", "--scripts", "act", "--incident",
                                                     "act/inc.json", "--config", "act/automator.yml"], in: folder.url)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("dry run, nothing sent: would run checkpoint.block_ip ip=198.51.100.7"), "\(result.stdout)")
        #expect(result.stdout.contains("block: planned"), "\(result.stdout)")
        #expect(result.stdout.contains("protected: actions.run: checkpoint.block_ip: ip 10.1.2.3 is in the protected network"),
                "\(result.stdout)")
    }

    @Test("An answer outside the choices is asked again; with no more answers the run stops and says why")
    func answers() async throws {
        let arguments = ["run", "playbooks/phishing.lua", "--incident", "examples/incidents/phishing.json",
                         "--scripts", "."]
        let retried = try AutomatorProcess.run(arguments, in: Self.scripts, input: "maybe\nlegitimate\n")
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(retried.stdout.contains(#""answer": one of "phishing", "legitimate" expected, got "maybe""#),
                "\(retried.stdout)")

        let short = try AutomatorProcess.run(arguments, in: Self.scripts, input: "phishing\n")
        #expect(short.status == 1)
        #expect(short.stderr.contains("task T-2 (Purge the message from all mailboxes) needs an answer"),
                "\(short.stderr)")
        let piped = try await AutomatorProcess.run(["run", "playbooks/phishing.lua", "--incident", "-", "--scripts", "."],
                                             in: Self.scripts,
                                             input: try String(contentsOf: Self.scripts.appendingPathComponent(
                                                 "examples/incidents/phishing.json"), encoding: .utf8))
        #expect(piped.status == 1 && piped.stderr.contains("standard input gave the incident, so give it as a file"),
                "\(piped.stderr)")
    }

    @Test("require finds modules in the scripts folder, as under serve, and a missing one says where it looked")
    func require() async throws {
        let folder = try TemporaryFolder()
        try folder.write("rq/lib/helper.lua", "return { greeting = 'hello from lib.helper' }\n")
        try folder.write("rq/playbooks/r.lua", """
            local helper = require("lib.helper")
            return playbook { name = "r", run = function(inc) inc:note(helper.greeting) end }
            """)
        try folder.write("rq/playbooks/missing.lua", """
            local gone = require("lib.gone")
            return playbook { name = "missing", run = function(inc) end }
            """)
        try folder.write("rq/inc.json", #"{"title": "Require", "type": "test", "severity": "low"}"#)
        let found = try await AutomatorProcess.run(["run", "rq/playbooks/r.lua", "--scripts", "rq", "--incident",
                                                    "rq/inc.json"], in: folder.url)
        #expect(found.status == 0, "\(found.stdout)\n\(found.stderr)")
        #expect(found.stdout.contains("hello from lib.helper"), "\(found.stdout)")
        #expect(found.stdout.contains("INC-1 is active"), "a playbook at work, as under serve: \(found.stdout)")

        let missing = try await AutomatorProcess.run(["run", "rq/playbooks/missing.lua", "--scripts", "rq",
                                                      "--incident", "rq/inc.json"], in: folder.url)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no file 'rq/lib/gone.lua'"), "\(missing.stderr)")
        #expect(missing.stderr.contains("no file 'rq/playbooks/lib/gone.lua'"), "\(missing.stderr)")
        // The traceback once, in the journal printed, not again with the error.
        #expect(missing.stdout.contains("stack traceback:"), "\(missing.stdout)")
        #expect(!missing.stderr.contains("stack traceback:"), "\(missing.stderr)")
    }

    @Test("A playbook serve would leave out is refused, each mistake of its declaration at its line, before it runs")
    func declarationMistakes() async throws {
        let folder = try TemporaryFolder()
        try folder.write("scripts/playbooks/login.lua", """
            return playbook {
              name = "Suspicious sign-in",
              match = { type = "suspicious_login" },
              sal = "4h",
              run = function(inc) inc:note("it ran") end,
            }
            """)
        try folder.write("elsewhere/login.lua", """
            return playbook {
              name = "Suspicious sign-in",
              match = { typ = "suspicious_login" },
              run = function(inc) inc:note("it ran") end,
            }
            """)
        try folder.write("inc.json", #"{"title": "Sign-in", "type": "suspicious_login", "severity": "low"}"#)
        // The misspelt field failed the run with no line; the misspelt match field ran, and serve refused it.
        for (file, problem) in [("scripts/playbooks/login.lua", ":4: playbook: unknown field sal (did you mean sla?)"),
                                ("elsewhere/login.lua", #":3: match names the unknown field "typ": use type"#)] {
            let result = try await AutomatorProcess.run(["run", file, "--incident", "inc.json"], in: folder.url)
            #expect(result.status == 1)
            #expect(result.stderr.contains("error: \(file)\(problem)"), "\(result.stderr)")
            #expect(result.stderr.contains("automator serve would leave this playbook out"), "\(result.stderr)")
            #expect(!result.stdout.contains("it ran"), "\(result.stdout)")
        }
    }

    @Test("A file that declares no playbook is refused before any run, and a playbook's top level prints once")
    func notAPlaybook() async throws {
        let folder = try TemporaryFolder()
        try folder.write("plain.lua", "print('top of plain')\nreturn 1\n")
        try folder.write("book.lua", """
            print("top of book")
            return playbook { name = "book", run = function(inc) print("book ran") end }
            """)
        try folder.write("inc.json", #"{"title": "Sign-in", "type": "suspicious_login", "severity": "low"}"#)
        // The plain file started a run that failed with the host's traceback; each top level printed twice.
        let plain = try await AutomatorProcess.run(["run", "plain.lua", "--incident", "inc.json"], in: folder.url)
        #expect(plain.status == 1)
        #expect(plain.stderr.contains("error: plain.lua: the file must return playbook { name = ..., run = "),
                "\(plain.stderr)")
        #expect(plain.stdout.isEmpty && !plain.stderr.contains("[host]"), "\(plain.stdout)\(plain.stderr)")

        let book = try await AutomatorProcess.run(["run", "book.lua", "--incident", "inc.json"], in: folder.url)
        #expect(book.status == 0, "\(book.stderr)")
        #expect(book.stdout.components(separatedBy: "top of book").count == 2, "\(book.stdout)")
        #expect(book.stdout.contains("book ran"), "\(book.stdout)")
    }

    @Test("An incident file that is not an incident is a usage error naming the field")
    func badIncident() async throws {
        let folder = try TemporaryFolder()
        try folder.write("incident.json", #"{"title": "x", "type": "phishing", "severity": "urgent"}"#)
        let result = try await AutomatorProcess.run(
            ["run", Self.scripts.appendingPathComponent("playbooks/phishing.lua").path, "--incident", "incident.json"],
            in: folder.url)
        #expect(result.status == 64)
        #expect(result.stderr.contains(#"incident.json is not an incident: "severity": one of info"#), "\(result.stderr)")
    }
}
