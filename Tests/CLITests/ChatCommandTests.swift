import Foundation
import Testing

@Suite("automator chat: the bot in the terminal", .timeLimit(.minutes(1)))
struct ChatCommandTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts").path

    @Test("The terminal connects to no network: their unset secrets in the configuration are no error there")
    func networksLeftOut() async throws {
        let folder = try TemporaryFolder()
        try folder.write("automator.yml", """
            chat:
              roles: { analyst: [alice] }
              matrix: { homeserver: "https://matrix.example.org", user: "@automator:example.org",
                        access_token: "${AUTOMATOR_TEST_UNSET_TOKEN}" }
            """)
        let chat = try AutomatorProcess.run(["chat", "--data", folder.url.path, "--scripts", Self.scripts, "--config",
                                             folder.url.appendingPathComponent("automator.yml").path, "--as", "alice"],
                                            input: "status\n")
        #expect(chat.status == 0, "\(chat.stderr)")
    }

    @Test("Lines piped in are answered one by one: commands, the watcher, a war room, a file; settings last")
    func console() async throws {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("automator.yml", "feeds:\n  - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }\n")
        try folder.write("upload.txt", "a harmless file\n")
        let arguments = ["chat", "--data", folder.url.path, "--scripts", Self.scripts,
                         "--config", folder.url.appendingPathComponent("automator.yml").path, "--as", "alice"]
        let first = try AutomatorProcess.run(arguments, input: """
            ip 203.0.113.45
            join #soc
            #soc nothing to see on 198.51.100.7
            #soc but 203.0.113.45 again
            #soc !incident new Beaconing from 203.0.113.45
            #soc !note blocked at the proxy
            #soc /file \(folder.url.appendingPathComponent("upload.txt").path)
            nonsense
            #soc !incdent show
            """)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("🔴 `203.0.113[.]45`: malicious") == true, "\(first.stdout)")
        #expect(lines.contains("Watching #soc."))
        #expect(!first.stdout.contains("198.51.100.7"), "an unknown finding is quiet where not verbose")
        #expect(lines.contains { $0.hasPrefix("[#soc]   ↳ 🔴 `203.0.113[.]45`") })
        #expect(lines.contains("[#soc]   ↳ Opened INC-1: Beaconing from 203.0.113[.]45. This channel is its war room."))
        #expect(lines.contains("[#soc]   📝"), "the reaction as a chat client shows it: \(first.stdout)")
        #expect(lines.suffix(2) == ["No command nonsense. help lists them.",
                                    "[#soc]   ↳ No command !incdent. Did you mean !incident? !help lists them."],
                "the terminal's lines are all said to the bot, a channel's too: \(first.stdout)")

        // A second session on the same folder: the bot remembers the channel and the war room.
        let second = try AutomatorProcess.run(arguments, input: "status\nverbose on #soc\n#soc /file \(folder.url.appendingPathComponent("upload.txt").path)\n")
        #expect(second.stdout.hasPrefix("Watching #soc (war room of INC-1)."), "\(second.stdout)")
        #expect(second.stdout.contains("upload.txt — ⚪"), "verbose: the unknown file is answered too")
        let journal = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data", folder.url.path])
        #expect(journal.stdout.contains("blocked at the proxy"), "\(journal.stdout)")
    }

    @Test("!action works as under serve: protected networks and approvals; the terminal needs no role to ask")
    func actions() async throws {
        let folder = try TemporaryFolder()
        // Nothing listens there: the dry runs send nothing, and the approved-or-not one is denied.
        let config = try folder.write("automator.yml", """
            integrations:
              checkpoint: { base_url: "http://127.0.0.1:9/web_api", api_key: cp-api-key }
            actions:
              protected: { networks: [10.0.0.0/8] }
            chat:
              roles: { responder: [alice], approver: [alice] }
            """)
        let arguments = ["chat", "--data", folder.url.path, "--scripts", Self.scripts, "--config", config]
        let alice = try AutomatorProcess.run(arguments + ["--as", "alice"], input: """
            action list
            action checkpoint.block_ip ip=198.51.100.7 dry_run=true
            action checkpoint.block_ip ip=10.1.1.1 dry_run=true
            action checkpoint.block_ip ip=198.51.100.7
            no
            deny
            """)
        #expect(alice.status == 0, "\(alice.stderr)")
        #expect(alice.stdout.contains("• checkpoint.block_ip (risk high) ip:ip reason?:string"), "\(alice.stdout)")
        #expect(alice.stdout.contains("Dry run ACT-"), "\(alice.stdout)")
        #expect(alice.stdout.contains("is in the protected network 10.0.0.0/8"), "\(alice.stdout)")
        #expect(alice.stdout.contains("Approve checkpoint.block_ip"), "a high risk asks for an approval first")
        #expect(alice.stdout.contains("Not done: denied by"), "a line that is no choice leaves the question open: \(alice.stdout)")
        // The terminal holds the data folder, as the CLI does; an approval is still an approver's.
        let bob = try AutomatorProcess.run(arguments + ["--as", "bob"],
                                           input: "action checkpoint.block_ip ip=198.51.100.7\napprove\n")
        #expect(bob.stdout.contains("Approve checkpoint.block_ip"), "\(bob.stdout)")
        #expect(bob.stdout.contains("bob, only people with the role approver may answer this."), "\(bob.stdout)")
    }

    @Test("With no approver named, the terminal's person answers an approval: they hold the data folder, the operator's authority")
    func operatorApproves() async throws {
        let folder = try TemporaryFolder()
        let config = try folder.write("automator.yml", """
            integrations:
              checkpoint: { base_url: "http://127.0.0.1:9/web_api", api_key: cp-api-key }
            chat:
              roles: { responder: [alice] }
            """)
        let bob = try AutomatorProcess.run(["chat", "--data", folder.url.path, "--scripts", Self.scripts,
                                            "--config", config, "--as", "bob"],
                                           input: "action checkpoint.block_ip ip=198.51.100.7\ndeny\n")
        #expect(bob.stdout.contains("(approver only); no one has that role yet: the operator answers here"), "\(bob.stdout)")
        #expect(bob.stdout.contains("bob answered: deny") && bob.stdout.contains("Not done: denied by console:bob"),
                "\(bob.stdout)")
    }

    @Test("A bare answer goes to the one question open in a channel; a refused answer leaves it open to the next")
    func answersElsewhere() async throws {
        let folder = try TemporaryFolder()
        let config = try folder.write("automator.yml", """
            integrations:
              checkpoint: { base_url: "http://127.0.0.1:9/web_api", api_key: cp-api-key }
            actions:
              approval: { channel: "#ir" }
            chat:
              roles: { approver: [alice] }
            """)
        let arguments = ["chat", "--data", folder.url.path, "--scripts", Self.scripts, "--config", config]
        let bob = try AutomatorProcess.run(arguments + ["--as", "bob"], input: """
            #ir !action checkpoint.block_ip ip=198.51.100.7
            approve
            #ir 1
            """)
        #expect(bob.stdout.contains("[#ir] Approve checkpoint.block_ip"), "\(bob.stdout)")
        let refusals = bob.stdout.components(separatedBy: "bob, only people with the role approver may answer this.").count - 1
        #expect(refusals == 2, "each answer refused, the bare one and the one in #ir: \(bob.stdout)")
        // A folder of her own: bob's question, still open in his, would be asked again in hers.
        let hers = try TemporaryFolder()
        let alice = try AutomatorProcess.run(["chat", "--data", hers.url.path, "--scripts", Self.scripts,
                                              "--config", config, "--as", "alice"], input: """
            #ir !action checkpoint.block_ip ip=198.51.100.7
            2
            """)
        #expect(alice.stdout.contains("alice answered: deny") && alice.stdout.contains("Not done: denied by"), "\(alice.stdout)")
    }

    @Test("--data naming no folder is refused as a typo; a first chat makes the default folder")
    func missingFolder() async throws {
        let folder = try TemporaryFolder()
        let typo = try AutomatorProcess.run(["chat", "--data", "typo-folder", "--scripts", Self.scripts],
                                            in: folder.url, input: "incident show INC-1\n")
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("there is no data folder typo-folder: pass --data"), "\(typo.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("typo-folder").path))

        let first = try AutomatorProcess.run(["chat", "--scripts", Self.scripts], in: folder.url, input: "help\n")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("automator-data").path))
        let noScripts = try AutomatorProcess.run(["chat"], in: folder.url, input: "help\n")
        #expect(noScripts.stdout.contains("I have no commands: ./scripts/commands holds none"), "\(noScripts.stdout)")
    }

    @Test("--help offers --data, not --store, which the bot cannot work on: its changes on the workers' PostgreSQL are theirs")
    func noStore() async throws {
        let help = try await AutomatorProcess.run(["chat", "--help"])
        #expect(help.status == 0 && help.stdout.contains("--data <folder>"), "\(help.stdout)")
        #expect(!help.stdout.contains("--store"), "\(help.stdout)")
        let store = try AutomatorProcess.run(["chat", "--store", "postgres://localhost/soc"], input: "help\n")
        #expect(store.status == 64 && store.stderr.contains("Unknown option '--store'"), "\(store.stderr)")
    }

    @Test("task done on a run no server resumes says, as the CLI does, that it goes on at the next serve")
    func taskOfStoredRun() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--scripts", Self.scripts,
                                                      "--title", "Phishing reported", "--type", "phishing",
                                                      "--severity", "medium"])
        #expect(created.status == 0, "\(created.stderr)")
        let chat = try AutomatorProcess.run(["chat", "--data", data, "--scripts", Self.scripts],
                                            input: "task done T-1 phishing\n")
        #expect(chat.stdout.contains("T-1 done: phishing."), "\(chat.stdout)")
        #expect(chat.stderr.contains("note: the playbook run "), "\(chat.stderr)")
        #expect(chat.stderr.contains(" waiting on T-1 goes on at the next automator serve"), "\(chat.stderr)")
    }

    @Test("A local file by its path: !file checks it, !evidence keeps it, in the same line or the next; its name is defanged")
    func localFiles() async throws {
        let folder = try TemporaryFolder()
        // A name is the sender's to choose, and a .com one is a live link in chat.
        let dropper = try folder.write("invoice.evil-login.com", "MZ dropped by the attacker\n")
        let notes = try folder.write("notes.txt", "what the analyst saw\n")
        let result = try AutomatorProcess.run(["chat", "--data", folder.url.path, "--scripts", Self.scripts],
                                              input: """
            incident new Dropper found
            file \(dropper)
            evidence INC-1
            #soc !evidence INC-1 \(notes)
            #ir !evidence INC-1
            """)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("invoice.evil-login[.]com — ") }, "checked: \(result.stdout)")
        // The line after `file PATH` answers that upload, as a reply in its thread would: its file, not its text.
        #expect(lines.contains { $0.hasPrefix("EV-") && $0.contains(": invoice.evil-login[.]com, 27 bytes (sha256 ") }, "\(result.stdout)")
        #expect(!result.stdout.contains("the message of"), "\(result.stdout)")
        #expect(lines.contains { $0.contains(": notes.txt, 21 bytes (sha256 ") }, "\(result.stdout)")
        // Each channel answers its own latest upload; with none, the terminal's way is said.
        #expect(lines.contains("[#ir]   ↳ Give the file's path: !evidence INC-1 /path/to/file"), "\(result.stdout)")
        let listed = try await AutomatorProcess.run(["evidence", "list", "INC-1", "--data", folder.url.path])
        #expect(listed.stdout.contains("invoice.evil-login.com") && listed.stdout.contains("notes.txt"), "\(listed.stdout)")
    }

    @Test("/file naming a folder says so, in plain words")
    func fileIsFolder() async throws {
        let folder = try TemporaryFolder()
        let result = try AutomatorProcess.run(["chat", "--data", folder.url.path, "--scripts", Self.scripts],
                                              input: "/file \(folder.url.path)\n")
        let output = result.stdout + result.stderr
        #expect(output.contains("\(folder.url.path) is a folder, not a file"), "\(output)")
        #expect(!output.contains("NSCocoaErrorDomain"))
    }

    @Test("join, leave and verbose: all means every channel, and a channel the bot is not in is said so")
    func channelCommands() async throws {
        let folder = try TemporaryFolder()
        let result = try AutomatorProcess.run(["chat", "--data", folder.url.path, "--scripts", Self.scripts], input: """
            join all
            join #soc, #ir
            leave #zzz
            verbose on #nope
            verbose on all
            leave all
            leave all
            """)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").map(String.init) == [
            "I can see no channel to join here: name them, as in join #soc, #ir.",
            "Watching #soc, #ir.",
            "I am not in #zzz.",
            "I do not watch #nope: join it first.",
            "Verbose on in #ir, #soc.",
            "Left #ir, #soc.",
            "I am in no channel.",
        ], "\(result.stdout)")
    }

    @Test("Escape sequences, the bell and right-to-left overrides from chat show escaped in the console and the CLI")
    func hiddenCharactersShowEscaped() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let chat = try AutomatorProcess.run(["chat", "--data", data, "--scripts", Self.scripts, "--as", "mallory"], input: """
            #x !incident new EVIL\u{1B}[31mRED\u{1B}[0m \u{202E} txt.exe
            #x hi \u{1B}]0;TITLE\u{07}
            """)
        #expect(chat.status == 0, "\(chat.stderr)")
        let hidden: [Character] = ["\u{1B}", "\u{07}", "\u{202E}"]
        let title = #"EVIL\27[31mRED\27[0m \u{202E} txt.exe"#
        #expect(chat.stdout.contains("Opened INC-1: " + title), "\(chat.stdout)")
        for command in [["journal", "show", "INC-1"], ["incident", "list"], ["incident", "show", "INC-1"], ["task", "list"]] {
            let shown = try await AutomatorProcess.run(command + ["--data", data])
            #expect(shown.status == 0, "\(command): \(shown.stderr)")
            #expect(!shown.stdout.contains { hidden.contains($0) }, "\(command): \(shown.stdout)")
            if command != ["task", "list"] { #expect(shown.stdout.contains(title), "\(command): \(shown.stdout)") }
        }
        let journal = try await AutomatorProcess.run(["journal", "show", "INC-1", "--data", data])
        #expect(journal.stdout.contains(#"hi \27]0;TITLE\a"#), "\(journal.stdout)")
        // JSON escapes the controls itself and is read by programs: printed as the API gives it.
        let json = try await AutomatorProcess.run(["incident", "show", "INC-1", "--json", "--data", data])
        #expect(json.stdout.contains(#"EVIL\u001b[31mRED"#) && json.stdout.contains("\u{202E}"), "\(json.stdout)")
    }
}
