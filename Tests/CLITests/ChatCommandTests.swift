import Foundation
import Testing

@Suite("automator chat: the bot in the terminal", .timeLimit(.minutes(1)))
struct ChatCommandTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts").path

    @Test("Lines piped in are answered one by one: commands, the watcher, a war room, a file; settings last")
    func console() async throws {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("automator.yml", "feeds:\n  - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }\n")
        try folder.write("upload.txt", "a harmless file\n")
        let arguments = ["chat", "--data", folder.url.appendingPathComponent("data").path, "--scripts", Self.scripts,
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
            """)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("🔴 `203.0.113.45`: malicious") == true, "\(first.stdout)")
        #expect(lines.contains("Watching #soc."))
        #expect(!first.stdout.contains("198.51.100.7"), "an unknown finding is quiet where not verbose")
        #expect(lines.contains { $0.hasPrefix("[#soc]   ↳ 🔴 `203.0.113.45`") })
        #expect(lines.contains("[#soc]   ↳ Opened INC-1: Beaconing from 203.0.113.45. This channel is its war room."))
        #expect(lines.contains("[#soc]   :memo:"))
        #expect(lines.last == "I don't know the command nonsense: help lists what I can do.", "\(first.stdout)")

        // A second session on the same folder: the bot remembers the channel and the war room.
        let second = try AutomatorProcess.run(arguments, input: "status\nverbose on #soc\n#soc /file \(folder.url.appendingPathComponent("upload.txt").path)\n")
        #expect(second.stdout.hasPrefix("Watching #soc (war room of INC-1)."), "\(second.stdout)")
        #expect(second.stdout.contains("upload.txt — ⚪"), "verbose: the unknown file is answered too")
        let journal = try await AutomatorProcess.run(["incident", "show", "INC-1", "--data",
                                                     folder.url.appendingPathComponent("data").path])
        #expect(journal.stdout.contains("blocked at the proxy"), "\(journal.stdout)")
    }

    @Test("Escape sequences, the bell and right-to-left overrides from chat show escaped in the console and the CLI")
    func hiddenCharactersShowEscaped() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
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
