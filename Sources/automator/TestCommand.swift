import ArgumentParser
import AutomatorRuntime
import Foundation

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the Lua tests of playbooks (*_test.lua) with stubbed people, intel, HTTP and chat.",
        discussion: """
            A test file sits beside its playbook (phishing_test.lua beside phishing.lua) and \
            declares tests that run a playbook on an incident and check what it did:

              local phishing = require("playbooks.phishing")

              test("a lure the reporter did not expect is purged", function()
                stub.task("Confirm with the reporter", "phishing")
                stub.task("Purge the message", "3 copies removed")
                local result = run(phishing, { type = "phishing", severity = "high" })
                expect.equal(result.incident.status, "closed")
                expect.note(result, "Mail team: 3 copies removed")
              end)

            What is ours runs for real (incidents, tasks, the journal, in a store of each test's \
            own); the outside world is stubbed: stub.task(title, answer, { after = "3h" }), \
            stub.intel{ [value] = "malicious" }, stub.http("GET https://...", response), \
            stub.chat(question, answer). Time is virtual, from Monday 5 January 2026 09:00 UTC in \
            every test: it moves only when a task is answered after a while, on time.sleep or advance("5h"), and an SLA it passes breaches at once. \
            The guide is docs/playbooks.md.

            Response actions are never sent: each actions.run (and actions.plan) is checked \
            against its integration's declaration, and each actions.run recorded for \
            expect.action. One at or above the risk \
            that needs an approval (high, or the actions section of --config) asks for it, as on \
            the server: stub.chat("Approve checkpoint.block_ip", "approve") answers, unless the \
            playbook's approvals = { ... } holds it. With --config, its protected networks and \
            accounts refuse what they refuse on the server, and chat.roles says who may answer: \
            only an approver approves (no one, while chat.roles.approver names no one: on the \
            server an operator answers then; a chat.ask for no roles offering exactly approve \
            and deny is an approval too), and a chat.ask with { roles = { "lead" } } takes \
            only a lead's answer. stub.chat("Approve ...", "approve", "slack:alice") names who \
            answers; anyone else's answer is refused, and the question times out \
            (actions.approval.timeout, or the question's timeout, on the virtual clock). Without \
            --config the test answers as the operator, whose answer the server takes from anyone \
            holding its data folder: every stubbed answer counts.

            Exit status: 0 when every test passed; 1 when one failed (its file:line is printed); \
            64 for a usage error.

            Examples:
              automator test
              automator test scripts/playbooks/phishing_test.lua
              automator test --junit test-results.xml
              automator test --config /etc/automator/automator.yml
            """
    )

    @Argument(help: ArgumentHelp("Test files, or folders searched for *_test.lua (default: the scripts folder).",
                                 valueName: "path"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("The scripts folder: require() reads it, with sla.lua and hooks/.", valueName: "folder"))
    var scripts = "scripts"

    @Option(help: ArgumentHelp("Also write the results as JUnit XML to this file, for CI systems.", valueName: "file"))
    var junit: String?

    @Option(help: ArgumentHelp("Stop a test after this long: seconds, or a duration such as 90s or 5m.",
                               valueName: "seconds"))
    var timeout = "30"

    @Option(help: ArgumentHelp("The server's configuration file: its actions section (protected networks and "
                               + "accounts, the risk that needs an approval) applies to the playbooks' actions.",
                               valueName: "file"))
    var config: String?

    func validate() throws {
        _ = try LimitOptions.timeoutSeconds(timeout)
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no such file or folder: \(path)")
        }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: scripts, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError("no scripts folder at \(scripts): give it with --scripts")
        }
        // Found before the tests run, not after a CI job's minutes of them.
        if let junit, case let folder = (junit as NSString).deletingLastPathComponent, !folder.isEmpty,
           !(FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) && isFolder.boolValue)
        {
            throw ValidationError("--junit: there is no folder \(folder) to write \(junit) in: make it first "
                + "(mkdir -p \(folder))")
        }
    }

    func run() throws {
        let files = PlaybookTestRunner.files(in: paths.isEmpty ? [scripts] : paths)
        guard !files.isEmpty else {
            throw ValidationError("no *_test.lua under \(paths.isEmpty ? scripts : paths.joined(separator: ", ")): "
                + "write one beside a playbook (docs/playbooks.md shows how)")
        }
        let policy: ActionConfiguration
        let roles: [String: [String]]?
        do {
            policy = try config.map { try ActionConfiguration(file: $0) } ?? ActionConfiguration()
            roles = try config.map { try ChatConfiguration.roles(file: $0) }
        } catch {
            throw ValidationError("\(error)")
        }
        let limit = Duration.milliseconds(Int64(DurationText.seconds(timeout)! * 1000))
        let runner = PlaybookTestRunner(scripts: scripts, limits: Limits(timeout: limit), actionPolicy: policy, roles: roles)
        var report = PlaybookTestReport(files: [])
        for file in files {
            print(file)
            let result = runner.run(file: file)
            if let problem = result.problem { print("  ✘ the file failed: " + indented(problem)) }
            for test in result.cases {
                let time = String(format: "%.0f ms", test.seconds * 1000)
                if let failure = test.failure {
                    print("  ✘ \(test.name) (\(time))\n      " + indented(failure))
                } else {
                    print("  ✔ \(test.name) (\(time))")
                }
            }
            report.files.append(result)
        }
        print("\(report.total.counted("test")), \(report.failed) failed")
        if let junit {
            do { try report.junit.write(toFile: junit, atomically: true, encoding: .utf8) } catch {
                FileHandle.standardError.write(Data("error: cannot write \(junit): \(error.localizedDescription)\n".utf8))
                throw ExitCode.failure
            }
        }
        if report.failed > 0 { throw ExitCode.failure }
    }

    private func indented(_ text: String) -> String { text.replacingOccurrences(of: "\n", with: "\n      ") }
}
