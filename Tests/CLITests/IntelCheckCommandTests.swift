import Foundation
import Testing

@Suite("automator intel check: lists of indicators against the local feeds", .timeLimit(.minutes(2)))
struct IntelCheckCommandTests {
    /// A folder with two feeds (one an allowlist) and the configuration naming them.
    private static func workspace() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", """
            198.51.100.7 C2 of the Acme campaign
            203.0.113.0/24 bulletproof hosting
            2001:db8:bad::/48
            evil.top phishing kit
            44d88612fea8a8f36de82e1278abb02f
            """)
        try folder.write("feeds/ours.txt", "192.0.2.0/24 our office range\n")
        try folder.write("automator.yml", """
            feeds:
              - name: bad
                path: feeds/bad.txt
                verdict: malicious
              - name: ours
                path: feeds/ours.txt
                verdict: allowlist
            """)
        return folder
    }

    /// Each line of standard output, parsed.
    private static func objects(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    @Test("One indicator a line: each verdict as JSON with its line; a bad line is reported and the rest checked")
    func perLine() async throws {
        let folder = try Self.workspace()
        try folder.write("input.txt", """
            # indicators from the ticket
            198.51.100.7
            hxxps://login.evil[.]top/pay

            hello world
            203.0.113.99
            192.0.2.10
            2001:DB8:BAD::1
            44D88612FEA8A8F36DE82E1278ABB02F
            8.8.8.8
            """)
        let result = try await AutomatorProcess.run(["intel", "check", "input.txt", "--config", "automator.yml"],
                                                    in: folder.url)
        #expect(result.status == 1, "a line was no indicator")
        #expect(result.stderr.contains("line 5: 'hello world' is not an IP, domain, URL, e-mail address, hash or CVE (a domain "
            + "ends in a public suffix"), "\(result.stderr)")
        #expect(result.stderr.contains("; write one indicator per line, or use --extract"), "\(result.stderr)")
        #expect(result.stderr.contains("1 line was no indicator"), "\(result.stderr)")
        let objects = try Self.objects(result.stdout)
        let summary = objects.map { "\($0["line"]!) \($0["type"]!) \($0["value"]!) \($0["verdict"]!)" }
        #expect(summary == [
            "2 ipv4 198.51.100.7 malicious",
            "3 url https://login.evil.top/pay malicious",
            "6 ipv4 203.0.113.99 malicious",
            "7 ipv4 192.0.2.10 benign",
            "8 ipv6 2001:db8:bad::1 malicious",
            "9 md5 44d88612fea8a8f36de82e1278abb02f malicious",
            "10 ipv4 8.8.8.8 unknown",
        ])
        #expect(objects[0]["summary"] as? String == #"malicious: 1 of 1 source; local feed "bad" (C2 of the Acme campaign)"#,
                "\(objects[0])")
        // A URL gets its host's listings, and says so.
        let url = try #require((objects[1]["sources"] as? [[String: Any]])?.first)
        #expect(url["reason"] as? String == "lists its host login.evil.top (phishing kit)", "\(url)")
        #expect((objects[3]["summary"] as? String)?.hasPrefix("benign: allowlisted by local feed \"ours\"") == true)
    }

    @Test("--extract checks every indicator in each line's text; --listed prints only what a feed lists; - reads stdin")
    func extractListed() async throws {
        let folder = try Self.workspace()
        let log = """
            Jan 5 10:00:01 fw1 DROP src=198.51.100.7 dst=10.0.0.5 dns=cdn.evil.top
            Jan 5 10:00:02 fw1 ACCEPT src=192.0.2.10 dst=93.184.216.34
            """
        let result = try await AutomatorProcess.run(["intel", "check", "-", "--extract", "--listed",
                                                     "--config", "automator.yml"], in: folder.url, input: log)
        #expect(result.status == 0, "\(result.stderr)")
        let summary = try Self.objects(result.stdout).map { "\($0["line"]!) \($0["value"]!) \($0["verdict"]!)" }
        #expect(summary == ["1 198.51.100.7 malicious", "1 cdn.evil.top malicious", "2 192.0.2.10 benign"])
    }

    @Test("A long list: a progress line every 100,000 lines on stderr, and every listed line found")
    func longList() async throws {
        let folder = try Self.workspace()
        var lines: [String] = []
        var listed = 0
        for number in 0..<250_001 {
            // Every 1,000th line in the listed 203.0.113.0/24, the others nowhere.
            if number % 1000 == 0 {
                lines.append("203.0.113.\(number / 1000 % 256)")
                listed += 1
            } else {
                lines.append("10.\(number >> 16 & 0xFF).\(number >> 8 & 0xFF).\(number & 0xFF)")
            }
        }
        try folder.write("long.txt", lines.joined(separator: "\n") + "\n")
        let result = try await AutomatorProcess.run(["intel", "check", "long.txt", "--listed", "--config", "automator.yml"],
                                                    in: folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "intel check: 100000 of 250001 lines\nintel check: 200000 of 250001 lines\n")
        let found = try Self.objects(result.stdout)
        #expect(found.count == listed)
        #expect(found.allSatisfy { $0["verdict"] as? String == "malicious" && ($0["line"] as? Int)! % 1000 == 1 })
    }

    @Test("A feed's broken line is logged as written, on one line: its escape sequences and carriage returns escaped")
    func brokenLineLoggedAsWritten() async throws {
        let folder = try Self.workspace()
        // A feed from the internet: a terminal's title set, the log's line overwritten from its start.
        try folder.write("feeds/bad.txt", "evil\u{1B}]0;owned\u{07}.top\n198.51.100.7\rerror automator: all feeds lost\n")
        try folder.write("input.txt", "198.51.100.7\n")
        let result = try await AutomatorProcess.run(["intel", "check", "input.txt", "--config", "automator.yml"],
                                                    in: folder.url)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains(#"feeds/bad.txt:1: "evil\27]0;owned\a.top" is not"#), "\(result.stderr)")
        #expect(result.stderr.contains(#"feeds/bad.txt:2: "198.51.100.7\rerror" is not"#), "\(result.stderr)")
        #expect(!result.stderr.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\r" || $0 == "\u{07}" }, "\(result.stderr)")
    }

    @Test("Without feeds it says what to give; --help shows examples")
    func usage() async throws {
        let folder = try Self.workspace()
        let missing = try AutomatorProcess.run(["intel", "check", "-"], in: folder.url, input: "198.51.100.7\n")
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("give --config with the configuration file whose feeds to check against"),
                "\(missing.stderr)")
        #expect(missing.stderr.contains("Usage: automator intel check [<file>]")
            && missing.stderr.contains("See 'automator intel check --help'"), "the command's usage, not automator's: \(missing.stderr)")
        try folder.write("empty.yml", "cache:\n  malicious: 1h\n")
        let empty = try AutomatorProcess.run(["intel", "check", "-", "--config", "empty.yml"], in: folder.url,
                                                   input: "198.51.100.7\n")
        #expect(empty.stderr.contains("empty.yml declares no feeds"), "\(empty.stderr)")
        let help = try await AutomatorProcess.run(["intel", "check", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("automator intel check ips.txt --config automator.yml"), "\(help.stdout)")
        #expect(help.stdout.contains("--extract"))
    }
}
