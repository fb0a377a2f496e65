import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@Suite("automator action: list, refusals before sending, --approve by approvers only, --dry-run, run, undo",
       .serialized, .timeLimit(.minutes(2)))
struct ActionCommandTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts").path

    @Test("The shipped actions through the CLI, with the checks, the approval rule and the journal")
    func actions() async throws {
        let events = Mutex<[String]>([])
        let router = Router()
        router.post("/v2/enqueue") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            events.withLock { $0.append(body) }
            return Response(status: .accepted, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"status": "success", "dedup_key": "x"}"#)))
        }
        let api = try await LoopbackServer(router)
        defer { api.stop() }
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        let config = try folder.write("automator.yml", """
            integrations:
              pagerduty: { base_url: "\(api.url)", routing_key: pd-routing-key }
              checkpoint: { base_url: "\(api.url)/web_api", api_key: cp-api-key }
            actions:
              protected: { networks: [10.0.0.0/8], accounts: [admin@example.com] }
            chat:
              roles: { approver: [alice] }
            """)
        let common = ["--data", data, "--scripts", Self.scripts, "--config", config]
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--title", "C2", "--type", "c2",
                                                      "--severity", "high"])
        #expect(created.status == 0, "\(created.stderr)")

        let listed = try await AutomatorProcess.run(["action", "list"] + common)
        #expect(listed.stdout.contains("checkpoint.block_ip  risk high  ip:ip reason?:string  undo unblock_ip\n"),
                "\(listed.stdout)")
        #expect(!listed.stdout.contains(" ttl "), "no shipped action lifts itself: \(listed.stdout)")
        #expect(listed.stdout.contains("pagerduty.trigger  risk low"))
        // Listing what the integrations declare reads the files: no data folder is needed.
        let noFolder = try await AutomatorProcess.run(["action", "list", "--data", folder.url.appendingPathComponent("none").path,
                                                       "--scripts", Self.scripts, "--config", config])
        #expect(noFolder.status == 0 && noFolder.stdout == listed.stdout, "\(noFolder.stdout)\(noFolder.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("none").path))
        // What is not set up is listed as off, with what to do: a first look needs no settings.
        let off = try #require(listed.stdout.components(separatedBy: "off until their integration's settings are given")
            .dropFirst().first, "\(listed.stdout)")
        #expect(off.contains("\ncrowdstrike.contain_host  risk critical") && !off.contains("checkpoint.block_ip"), "\(off)")
        let bare = try await AutomatorProcess.run(["action", "list", "--data", folder.url.appendingPathComponent("none").path,
                                                   "--scripts", Self.scripts])
        #expect(bare.status == 0 && bare.stdout.hasPrefix("no integration in use in \(Self.scripts)/integrations declares actions\n"
            + "off until their integration's settings are given"), "\(bare.stdout)")
        #expect(bare.stdout.contains("\ncheckpoint.block_ip  risk high"), "\(bare.stdout)")
        // --json is the API's catalog, for a script that checks what a deployment can do.
        let json = try await AutomatorProcess.run(["action", "list", "--json"] + common)
        let catalog = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let inUse = (catalog["actions"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        let notSetUp = (catalog["off"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(inUse.contains("checkpoint.block_ip") && !inUse.contains("crowdstrike.contain_host"), "\(json.stdout)")
        #expect(notSetUp.contains("crowdstrike.contain_host") && !notSetUp.contains("checkpoint.block_ip"), "\(json.stdout)")

        let protected = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=10.1.1.1",
                                                        "--incident", "INC-1", "--approve"] + common,
                                                       environment: ["USER": "alice"])
        #expect(protected.status == 1 && protected.stderr.contains("is in the protected network 10.0.0.0/8"))
        let unapproved = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=198.51.100.7",
                                                         "--incident", "INC-1"] + common)
        #expect(unapproved.status == 1 && unapproved.stderr.contains("is high risk and needs an approver's yes"))
        let notApprover = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=198.51.100.7",
                                                          "--incident", "INC-1", "--approve"] + common,
                                                         environment: ["USER": "bob"])
        #expect(notApprover.status == 1 && notApprover.stderr.contains("bob may not approve actions"), "\(notApprover.stderr)")
        // The attempt is journaled on the incident, as chat journals an answer refused for a role, so the audit has it.
        let audit = try await AutomatorProcess.run(["audit", "--actor", "cli:bob", "--data", data, "--json"])
        #expect(audit.stdout.contains(#""actor":"cli:bob","incident":"INC-1","kind":"refused","text":"approve "#
            + #"checkpoint.block_ip ip=198.51.100.7, for the role approver""#), "\(audit.stdout)\(audit.stderr)")
        let dry = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=198.51.100.7",
                                                  "--incident", "INC-1", "--dry-run"] + common, environment: ["USER": "bob"])
        #expect(dry.status == 0 && dry.stdout.contains("  planned  checkpoint.block_ip  INC-1"), "\(dry.stdout)\(dry.stderr)")

        let paged = try await AutomatorProcess.run(["action", "run", "pagerduty.trigger", "--param", "summary=C2 on web-1",
                                                    "--incident", "INC-1"] + common, environment: ["USER": "bob"])
        #expect(paged.status == 0 && paged.stdout.contains("  done  pagerduty.trigger  INC-1"), "\(paged.stderr)")
        let id = try #require(paged.stdout.split(separator: " ").first.map(String.init))
        let history = try await AutomatorProcess.run(["action", "history", "--incident", "INC-1"] + common)
        // The protected address's refusal is kept, for the report and the audit; the approvals
        // missing or refused are not: the checks passed, the CLI refused to send it.
        #expect(history.stdout.split(separator: "\n").map { $0.split(separator: " ").dropFirst().first ?? "" }
            == ["done", "planned", "refused"], "\(history.stdout)")
        #expect(history.stdout.contains(#"refused  checkpoint.block_ip  INC-1  {"ip":"10.1.1.1"}  by cli:alice"#),
                "\(history.stdout)")
        // Without the configuration the integration cannot undo: said, not "nothing to undo".
        let unconfigured = try await AutomatorProcess.run(["action", "undo", "--incident", "INC-1", "--data", data,
                                                           "--scripts", Self.scripts])
        #expect(unconfigured.status == 1 && unconfigured.stderr.contains("pagerduty"), "\(unconfigured.stdout)\(unconfigured.stderr)")
        let undone = try await AutomatorProcess.run(["action", "undo", id] + common, environment: ["USER": "bob"])
        #expect(undone.status == 0 && undone.stdout.hasPrefix("\(id)  undone")
            && undone.stdout.contains("  undone by cli:bob at 20"), "who undid it, and when: \(undone.stdout)\(undone.stderr)")
        #expect(events.withLock { $0.map { $0.contains(#""event_action":"resolve""#) } } == [false, true])

        let journal = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", data])
        #expect(journal.stdout.contains("dry run, nothing sent: would run checkpoint.block_ip ip=198.51.100.7"),
                "\(journal.stdout)")
        #expect(journal.stdout.contains("undone by cli:bob with pagerduty.resolve"))
    }

    /// A data folder (in `data` of the folder) with one incident, INC-1.
    static func folderWithIncident() async throws -> (TemporaryFolder, String) {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        #expect(try await AutomatorProcess.run(["incident", "create", "--data", data, "--title", "C2", "--type", "c2",
                                                "--severity", "high"]).status == 0)
        return (folder, data)
    }

    @Test("history keeps one action a line when an integration's error spans several (a quoted HTML error page)")
    func multilineError() async throws {
        let (folder, data) = try await Self.folderWithIncident()
        try folder.write("scripts/integrations/hook.lua", """
            return integration {
              name = "Hook",
              actions = {
                notify = { risk = "low", params = {},
                           run = function() error("the webhook answered 501: <html>\\n  <h1>Error</h1>\\n</html>", 0) end },
              },
            }
            """)
        let config = try folder.write("automator.yml", "actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        let common = ["--data", data, "--scripts", folder.url.appendingPathComponent("scripts").path, "--config", config]
        let failed = try await AutomatorProcess.run(["action", "run", "hook.notify", "--incident", "INC-1"] + common)
        #expect(failed.status == 1, "\(failed.stdout)\(failed.stderr)")
        let history = try await AutomatorProcess.run(["action", "history"] + common)
        #expect(history.stdout.split(separator: "\n").count == 1
                && history.stdout.contains("failed: the webhook answered 501: <html> <h1>Error</h1> </html>"),
                "\(history.stdout)\(history.stderr)")
    }

    @Test("A dry run plans an action whose integration has no credentials yet; the real run says what to set")
    func dryRunWithoutSettings() async throws {
        let (folder, data) = try await Self.folderWithIncident()
        let config = try folder.write("automator.yml", "actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        let arguments = ["action", "run", "checkpoint.block_ip", "--param", "ip=198.51.100.7", "--data", data,
                         "--scripts", Self.scripts, "--config", config]
        let dry = try await AutomatorProcess.run(arguments + ["--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("  planned  checkpoint.block_ip"), "\(dry.stdout)\(dry.stderr)")
        let bad = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=not-an-ip",
                                                  "--data", data, "--scripts", Self.scripts, "--config", config, "--dry-run"])
        #expect(bad.status == 1 && bad.stderr.contains("ip"), "still checked against its declaration: \(bad.stderr)")
        let real = try await AutomatorProcess.run(arguments)
        #expect(real.status == 1 && real.stderr.contains("the integration checkpoint is not in use: api_key and base_url "
                + "are not set: set them under integrations.checkpoint"), "\(real.stderr)")
        // A typo, of the integration or of the action, is told the action meant, in a dry run too.
        for typed in ["checkpont.block_ip", "checkpoint.blok_ip"] {
            let mistyped = try await AutomatorProcess.run(["action", "run", typed] + arguments.dropFirst(3) + ["--dry-run"])
            #expect(mistyped.status == 1 && mistyped.stderr.contains("there is no action \(typed) (did you mean "
                    + "checkpoint.block_ip?): the integration checkpoint is not in use: api_key and base_url are not set"),
                    "\(mistyped.stderr)")
        }
        // Checked against no configuration, "planned" would read as a passed check.
        let unchecked = try await AutomatorProcess.run(Array(arguments.dropLast(2)) + ["--dry-run"])
        #expect(unchecked.status == 1 && unchecked.stderr.contains("pass --config automator.yml"), "\(unchecked.stderr)")
    }

    @Test("Without $USER the CLI still names the person at the terminal, in a dry run as in a real one")
    func actorWithoutUser() async throws {
        let (folder, data) = try await Self.folderWithIncident()
        let config = try folder.write("automator.yml", "actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        let dry = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=198.51.100.7",
                                                  "--data", data, "--scripts", Self.scripts, "--config", config, "--dry-run"],
                                                 environment: ["USER": "", "LOGNAME": ""])
        #expect(dry.status == 0 && dry.stdout.contains("  by cli:"), "\(dry.stdout)\(dry.stderr)")
    }

    @Test("undo says what is missing: neither an id nor --incident, an incident that does not exist, a data folder")
    func undoRefusals() async throws {
        let (folder, data) = try await Self.folderWithIncident()
        let common = ["--data", data, "--scripts", Self.scripts]

        let neither = try await AutomatorProcess.run(["action", "undo"] + common)
        #expect(neither.status == 64)
        #expect(neither.stderr.contains("give the action id to undo, or --incident"), "\(neither.stderr)")
        let unknown = try await AutomatorProcess.run(["action", "undo", "--incident", "INC-77"] + common)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("there is no incident INC-77"), "\(unknown.stderr)")
        let noHistory = try await AutomatorProcess.run(["action", "history", "--incident", "INC-77"] + common)
        #expect(noHistory.status == 1 && noHistory.stderr.contains("there is no incident INC-77"), "\(noHistory.stderr)")
        let twice = try await AutomatorProcess.run(["action", "run", "checkpoint.block_ip", "--param", "ip=203.0.113.9",
                                                    "--param", "ip=203.0.113.10", "--dry-run"] + common)
        #expect(twice.status == 64 && twice.stderr.contains("--param ip is given twice"), "\(twice.stdout)\(twice.stderr)")
        let none = try await AutomatorProcess.run(["action", "undo", "--incident", "INC-1"] + common)
        #expect(none.status == 0 && none.stdout == "nothing to undo\n", "\(none.stdout)\(none.stderr)")
        let empty = try await AutomatorProcess.run(["action", "history", "--incident", "INC-1"] + common)
        #expect(empty.status == 0 && empty.stdout == "no actions on INC-1\n", "not silence: \(empty.stdout)\(empty.stderr)")

        let typo = try await AutomatorProcess.run(["action", "history", "--data", "nowhere"], in: folder.url)
        #expect(typo.status == 64 && typo.stderr.contains("there is no data folder nowhere: pass --data"), "\(typo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("nowhere").path))
    }
}
