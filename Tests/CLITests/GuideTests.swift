import Foundation
import Testing

/// docs/playbooks.md cannot rot: its Lua examples are the files of a scripts folder, which
/// `automator check` must find clean and whose tests `automator test` must pass.
@Suite("The playbook guide's examples run")
struct GuideTests {
    static let guide = PlaybookTrialTests.scripts.deletingLastPathComponent().appendingPathComponent("docs/playbooks.md")

    /// The guide's ```lua blocks: the file each names (`file=PATH` after the fence), and its text.
    static func examples() throws -> [(file: String?, text: String)] {
        var blocks: [(String?, String)] = []
        var current: (file: String?, lines: [String])?
        for line in try String(contentsOf: guide, encoding: .utf8).components(separatedBy: "\n") {
            if let block = current {
                if line == "```" {
                    blocks.append((block.file, block.lines.joined(separator: "\n") + "\n"))
                    current = nil
                } else {
                    current?.lines.append(line)
                }
            } else if line.hasPrefix("```lua") {
                let file = line.split(separator: " ").first { $0.hasPrefix("file=") }.map { String($0.dropFirst(5)) }
                current = (file, [])
            }
        }
        return blocks
    }

    @Test("Every Lua example names its file; checked, they have no problem, and their tests pass")
    func examplesRun() async throws {
        let examples = try Self.examples()
        #expect(examples.count >= 8)
        #expect(examples.allSatisfy { $0.file != nil }, "a ```lua block without file=PATH would not be run")
        let folder = try TemporaryFolder()
        for example in examples { try folder.write(try #require(example.file), example.text) }

        let check = try await AutomatorProcess.run(["check", "--scripts", "."], in: folder.url)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")

        let tests = examples.filter { $0.file!.hasSuffix("_test.lua") }
        let count = tests.reduce(0) { $0 + $1.text.components(separatedBy: "\n").count { $0.hasPrefix("test(") } }
        let result = try await AutomatorProcess.run(["test", "--scripts", "."], in: folder.url)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("\(count) tests, 0 failed"), "\(result.stdout)")
        for test in tests { #expect(result.stdout.contains(test.file!), "\(result.stdout)") }
    }

    @Test("\"Try it\" runs the first playbook as written, with the configuration it shows")
    func tryIt() async throws {
        let text = try String(contentsOf: Self.guide, encoding: .utf8)
        let block = try #require(text.components(separatedBy: "```sh try-it\n").dropFirst().first?
            .components(separatedBy: "\n```").first)
        let folder = try TemporaryFolder()
        for example in try Self.examples() { try folder.write("scripts/" + (example.file ?? ""), example.text) }
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-e", "-c", block]
        shell.currentDirectoryURL = folder.url
        shell.environment = AutomatorProcess.environment(adding: [
            "PATH": AutomatorProcess.executable.deletingLastPathComponent().path + ":/usr/bin:/bin"])
        let result = try await AutomatorProcess.collect(shell, input: "not me\n")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("203.0.113.7: malicious"), "\(result.stdout)")
        #expect(result.stdout.contains("account-compromise") || result.stdout.contains("iam-team"), "\(result.stdout)")
    }
}
