import Foundation
import Testing

@Suite("automator run, as a real process")
struct RunCommandTests {
    @Test("A script runs with its arguments; print goes to stdout, log to stderr")
    func success() throws {
        let folder = try TemporaryFolder()
        let script = try folder.write("hello.lua", """
            print("args", #arg, arg[0] ~= nil, ...)
            log.info("to stderr", { count = 2 })
            log.info({ "one" })
            log.info({ "one", two = 2 })
            print(json ~= nil, type(time.now()))
            """)
        let result = try AutomatorProcess.run(["run", script, "--", "one", "two words"])
        #expect(result.status == 0)
        #expect(result.stdout == "args\t2\ttrue\tone\ttwo words\ntrue\tnumber\n")
        #expect(result.stderr.contains("to stderr"))
        #expect(result.stderr.contains("count=2"))
        #expect(result.stderr.contains("table (1 entry)") && result.stderr.contains("table (2 entries)"), "\(result.stderr)")
    }

    @Test("With --config, intel.reputation asks its feeds, in run and in the REPL; without, it says what to give")
    func reputation() throws {
        let folder = try TemporaryFolder()
        try folder.write("bad.txt", "203.0.113.45 sender of phishing\n")
        try folder.write("automator.yml", "feeds:\n  - name: bad\n    path: bad.txt\n    verdict: malicious\n")
        let script = try folder.write("look.lua", "print(intel.reputation(arg[1]).summary)\n")
        let common = ["--config", "automator.yml", "--scripts", "scripts"]
        let listed = try AutomatorProcess.run(["run", script] + common + ["--", "203.0.113.45"], in: folder.url)
        #expect(listed.stdout == #"malicious: 1 of 1 source; local feed "bad" (sender of phishing)"# + "\n", "\(listed.stderr)")
        let repl = try AutomatorProcess.run(["repl"] + common, in: folder.url,
                                            input: #"intel.reputation("203.0.113.45").verdict"# + "\n")
        #expect(repl.stdout == "\"malicious\"\n", "\(repl.stderr)")
        let without = try AutomatorProcess.run(["run", script, "--", "203.0.113.45"], in: folder.url)
        #expect(without.status == 1 && without.stderr.contains("give automator --config"), "\(without.stderr)")
    }

    @Test("A script error exits 1 with error: FILE:LINE: message and a traceback")
    func scriptError() throws {
        let folder = try TemporaryFolder()
        try folder.write("fail.lua", "local function check(x)\n  error('bad indicator: ' .. x)\nend\ncheck('1.2.3.4')\n")
        let script = "fail.lua"
        let result = try AutomatorProcess.run(["run", script], in: folder.url)
        #expect(result.status == 1)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.first == "error: \(script):2: bad indicator: 1.2.3.4")
        #expect(result.stderr.contains("stack traceback:"))
        #expect(result.stderr.contains("\(script):4: in main chunk"))
    }

    @Test("A syntax error exits 1 and names the line")
    func syntaxError() throws {
        let folder = try TemporaryFolder()
        try folder.write("syntax.lua", "local x = 1\nif x then\n")
        let script = "syntax.lua"
        let result = try AutomatorProcess.run(["run", script], in: folder.url)
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("error: \(script):3: 'end' expected"))
    }

    @Test("Limits stop a run with exit 1 and say which limit")
    func limits() throws {
        let folder = try TemporaryFolder()
        try folder.write("loop.lua", "while true do end\n")
        let loop = "loop.lua"
        let started = Date()
        let timedOut = try AutomatorProcess.run(["run", loop, "--timeout", "1"], in: folder.url)
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(timedOut.status == 1)
        #expect(timedOut.stderr.hasPrefix("error: \(loop):1: timeout: the run exceeded its limit of 1s"))
        let inSeconds = try AutomatorProcess.run(["run", loop, "--timeout", "2s"], in: folder.url)
        #expect(inSeconds.stderr.hasPrefix("error: \(loop):1: timeout: the run exceeded its limit of 2s"), "\(inSeconds.stderr)")

        try folder.write("hog.lua", "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end\n")
        let hog = "hog.lua"
        let capped = try AutomatorProcess.run(["run", hog, "--memory", "8"], in: folder.url)
        #expect(capped.status == 1)
        #expect(capped.stderr.hasPrefix("error: \(hog):1: memory limit of 8 MiB exceeded"))
    }

    @Test("Usage errors exit 64 and say what to do", arguments: [
        (["run"], "Missing expected argument"),
        (["run", "/nonexistent/script.lua"], "no such script: /nonexistent/script.lua"),
        (["run", "."], ". is a folder: name a .lua file in it"),
        (["run", "--frobnicate", "ok.lua"], "Unknown option '--frobnicate'"),
        (["run", "ok.lua", "--timeout", "0"], "--timeout takes seconds (5) or a duration (90s, 5m, 1h) above 0 and at most a week, not '0'"),
        (["run", "ok.lua", "--timeout", "1e16"], "--timeout takes seconds (5) or a duration (90s, 5m, 1h) above 0"),
        (["run", "ok.lua", "--timeout", "8d"], "at most a week, not '8d'"),
        (["run", "ok.lua", "--timeout", "5 minutes"], "not '5 minutes'"),
        (["run", "ok.lua", "--memory", "0"], "--memory must be between"),
        (["run", "ok.lua", "--memory", "lots"], "The value 'lots' is invalid for '--memory <MiB>'"),
        (["no-such-command"], "automator has no command 'no-such-command': its commands are run, test, check"),
    ])
    func usage(arguments: [String], message: String) throws {
        let folder = try TemporaryFolder()
        try folder.write("ok.lua", "print('should not run')")
        let result = try AutomatorProcess.run(arguments, in: folder.url)
        #expect(result.stdout.isEmpty)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("Every failure starts its line alike: a usage error, one found while the command runs, and the runtime's")
    func oneErrorPrefix() throws {
        let folder = try TemporaryFolder()
        try folder.write("fail.lua", "error('boom')\n")
        let parse = try AutomatorProcess.run(["run", "--frobnicate", "fail.lua"], in: folder.url)
        let validation = try AutomatorProcess.run(["run", "."], in: folder.url)
        let runtime = try AutomatorProcess.run(["run", "fail.lua"], in: folder.url)
        let failing = try AutomatorProcess.run(["runs", "show", "run-none", "--data", folder.url.path])
        #expect([parse.status, validation.status, runtime.status, failing.status] == [64, 64, 1, 1])
        for result in [parse, validation, runtime, failing] {
            #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        }
    }

    @Test("A playbook run without --incident says to give one")
    func playbookWithoutIncident() throws {
        let folder = try TemporaryFolder()
        try folder.write("pb.lua", "return playbook { name = 'pb', run = function(inc) end }\n")
        let result = try AutomatorProcess.run(["run", "pb.lua"], in: folder.url)
        #expect(result.status == 1)
        #expect(result.stderr.contains("pb.lua is a playbook: run it on an incident with --incident FILE"),
                "\(result.stderr)")
    }

    @Test("--help teaches: what, exit codes, an example")
    func help() throws {
        let result = try AutomatorProcess.run(["run", "--help"])
        #expect(result.status == 0)
        for text in ["Run a Lua script in the sandbox", "--timeout", "--memory", "Exit status", "Examples", "require"] {
            #expect(result.stdout.contains(text), "--help should mention \(text)")
        }
        let top = try AutomatorProcess.run(["--help"])
        #expect(top.stdout.contains("run") && top.stdout.contains("repl"))
    }

    @Test("require finds modules beside the script")
    func require() throws {
        let folder = try TemporaryFolder()
        try folder.write("lib/verdicts.lua", "return { worst = function(a, b) return a > b and a or b end }")
        let script = try folder.write("main.lua", "print(require('lib.verdicts').worst(2, 3))")
        let result = try AutomatorProcess.run(["run", script])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "3\n")
    }

    @Test("A module that does not compile is blamed at its own line and token, as for a script")
    func moduleSyntaxError() throws {
        let folder = try TemporaryFolder()
        try folder.write("lua/badmod2.lua", "print(1)\nlocal y = 2\nfoo(\n")
        try folder.write("lua/usebad2.lua", #"require("badmod2")"#)
        let result = try AutomatorProcess.run(["run", "lua/usebad2.lua"], in: folder.url)
        #expect(result.status != 0)
        // Not line 5 near 'end': the end of the function require compiles the file into.
        #expect(result.stderr.contains("lua/badmod2.lua:4: unexpected symbol near <eof>"), "\(result.stderr)")
    }

    @Test("The README's example, scripts/examples/triage.lua, weighs the defanged alert's indicators")
    func triageExample() throws {
        let result = try AutomatorProcess.run(["run", "examples/triage.lua"], in: PlaybookTrialTests.scripts)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(lines.contains(["domain", "rnicrosoft-helpdesk.com", "malicious:", "look-alike", "of", "microsoft.com,",
                                "reported", "2026-11-20"]))
        #expect(lines.contains(["url", "https://rnicrosoft-helpdesk.com/reset?u=jdoe", "unknown"]))
        #expect(!result.stdout.contains("10.0.4.17"), "an internal relay is not a finding")
        #expect(result.stdout.hasSuffix(#"{"alert":"ALRT-20261129-0042","findings":4,"score":8,"verdict":"malicious"}"# + "\n"))
    }

    @Test("triage.lua weighs the text given as its arguments in place of the example's body, as the README runs it")
    func triageArguments() throws {
        let result = try AutomatorProcess.run(["run", "examples/triage.lua", "--timeout", "5", "--memory", "64", "--",
                                               "mail from 198.51.100.9 linking", "hxxps://rnicrosoft-helpdesk[.]com/x"],
                                              in: PlaybookTrialTests.scripts)
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(lines.contains(["ipv4", "198.51.100.9", "unknown"]), "\(result.stdout)")
        #expect(lines.contains { $0.starts(with: ["domain", "rnicrosoft-helpdesk.com", "malicious:"]) }, "\(result.stdout)")
        #expect(!result.stdout.contains("203.0.113.45"), "the example's body is replaced: \(result.stdout)")
    }
}

@Suite("Standard Lua stays standard")
struct StandardLuaTests {
    @Test("A script of standard Lua prints exactly what Debian's lua5.4 prints")
    func matchesStockInterpreter() throws {
        let script = try #require(Bundle.module.path(forResource: "standard", ofType: "lua", inDirectory: "Fixtures"))
        let stock = Process()
        stock.executableURL = URL(fileURLWithPath: "/usr/bin/lua5.4")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/lua5.4") else {
            Issue.record("/usr/bin/lua5.4 is missing: run `make deps` (it installs Debian's lua5.4)")
            return
        }
        stock.arguments = [script]
        let output = Pipe()
        stock.standardOutput = output
        try stock.run()
        let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        stock.waitUntilExit()
        #expect(stock.terminationStatus == 0)

        let ours = try AutomatorProcess.run(["run", script])
        #expect(ours.status == 0, "\(ours.stderr)")
        #expect(expected.split(separator: "\n").count > 60)
        #expect(ours.stdout == expected)
    }
}
