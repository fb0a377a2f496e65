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
}
