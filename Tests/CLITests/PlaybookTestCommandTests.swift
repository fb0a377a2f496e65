import Foundation
import Testing

@Suite("automator test: Lua tests of playbooks, with stubs and a virtual clock")
struct PlaybookTestCommandTests {
    static let scripts = PlaybookTrialTests.scripts

    @Test("The shipped playbook tests pass, each file and test named")
    func shippedTests() async throws {
        let result = try await AutomatorProcess.run(["test", "--scripts", "."], in: Self.scripts)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        for playbook in try FileManager.default.contentsOfDirectory(atPath: Self.scripts.appendingPathComponent("playbooks").path)
        where !playbook.hasSuffix("_test.lua") {
            let test = "playbooks/" + playbook.replacingOccurrences(of: ".lua", with: "_test.lua")
            #expect(result.stdout.contains(test), "no tests for \(playbook): \(result.stdout)")
        }
        #expect(result.stdout.contains("✔ a lure the reporter did not expect is purged"), "\(result.stdout)")
        #expect(!result.stdout.contains("✘"), "\(result.stdout)")
        #expect(result.stdout.contains(" 0 failed"), "\(result.stdout)")
        #expect(!result.stdout.contains("types/"), "the editors' ---@meta files are no tests: \(result.stdout)")
    }

    @Test("A broken copy of a playbook fails at the playbook's line, with the test's line that ran it; JUnit says so too")
    func brokenPlaybook() async throws {
        let folder = try TemporaryFolder()
        let original = try String(contentsOf: Self.scripts.appendingPathComponent("playbooks/phishing.lua"), encoding: .utf8)
        let broken = original.replacingOccurrences(of: #"inc:raise("high", sender_domain .. " imitates"#,
                                                   with: #"inc:raise("hihg", sender_domain .. " imitates"#)
        #expect(broken != original)
        let line = try #require(broken.components(separatedBy: "\n").firstIndex { $0.contains("\"hihg\"") }) + 1
        try folder.write("playbooks/phishing.lua", broken)
        let tests = try String(contentsOf: Self.scripts.appendingPathComponent("playbooks/phishing_test.lua"), encoding: .utf8)
        try folder.write("playbooks/phishing_test.lua", tests)
        // And what the playbook needs beside it: its libraries, the integration whose action it runs, the SLAs.
        for file in ["sla.lua", "lib/respond.lua", "lib/addresses.lua", "integrations/checkpoint.lua"] {
            try folder.write(file, try String(contentsOf: Self.scripts.appendingPathComponent(file), encoding: .utf8))
        }

        let result = try await AutomatorProcess.run(["test", "--scripts", ".", "--junit", "results.xml"], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("✘ a look-alike of our own domain raises the severity to high"), "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/phishing.lua:\(line): inc:raise expects a severity"), "\(result.stdout)")
        let caller = try #require(tests.components(separatedBy: "\n").firstIndex { $0.contains("local result = run(phishing, report())") }) + 1
        #expect(result.stdout.contains("from ./playbooks/phishing_test.lua:\(caller)"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ a message the reporter expected"), "\(result.stdout)")
        let junit = try String(contentsOf: folder.url.appendingPathComponent("results.xml"), encoding: .utf8)
        #expect(junit.contains(#"<failure message="./playbooks/phishing.lua:\#(line): inc:raise expects"#), "\(junit)")
        #expect(junit.contains(#"<testcase name="a message the reporter expected is closed as a false positive, with no purge""#))
        let nowhere = try await AutomatorProcess.run(["test", "--scripts", ".", "--junit", "reports/results.xml"], in: folder.url)
        #expect(nowhere.status == 64 && nowhere.stdout.isEmpty && nowhere.stderr.hasPrefix("error: --junit: there is no folder "
            + "reports to write reports/results.xml in: make it first (mkdir -p reports)\n"), "\(nowhere.stdout)\(nowhere.stderr)")
    }

    @Test("A failed assertion names the test file's line, expected and actual values")
    func failedAssertion() async throws {
        let result = try await Self.test([
            "playbooks/close.lua": Self.close,
            "playbooks/close_test.lua": """
            local close = require("playbooks.close")
            test("it closes", function()
              local result = run(close, { type = "x" })
              expect.equal(result.incident.close_reason, "resolved")
            end)
            """,
        ], arguments: ["test", "playbooks", "--scripts", "."])
        #expect(result.status == 1)
        #expect(result.stdout.contains(#"playbooks/close_test.lua:4: expected "resolved", got "done""#), "\(result.stdout)")
        #expect(result.stdout.contains("1 test, 1 failed"), "\(result.stdout)")
    }

    @Test("A misspelt expect check names the one it likely meant, at the test's line")
    func misspeltCheck() async throws {
        let result = try await Self.test([
            "playbooks/close.lua": Self.close,
            "playbooks/close_test.lua": """
            local close = require("playbooks.close")
            test("misspelt", function()
              expect.eqaul(run(close, { type = "x" }).incident.close_reason, "done")
            end)
            test("unknown", function()
              expect.closed(run(close, { type = "x" }))
            end)
            test("its metatable is out of reach", function()
              expect.equal(getmetatable(expect), false)
              expect.equal(pcall(setmetatable, expect, {}), false)
            end)
            """,
        ])
        #expect(result.stdout.contains(#"playbooks/close_test.lua:3: expect has no "eqaul": did you mean "equal"?"#),
                "\(result.stdout)")
        #expect(result.stdout.contains(#"playbooks/close_test.lua:6: expect has no "closed": the checks are action, "#
            + "contains, equal, error, journal, no_journal, no_note, note, post, task, truthy"), "\(result.stdout)")
        #expect(result.stdout.contains("3 tests, 2 failed"), "\(result.stdout)")
    }

    @Test("Intel, HTTP, chat and time are stubbed; what the playbook asked of them is in the outcome")
    func stubs() async throws {
        let result = try await Self.test([
            "playbooks/block.lua": """
            return playbook {
              name = "Block bad addresses",
              sla = "1h",
              run = function(inc)
                local verdict = intel.reputation(inc.fields.ip)
                inc:note(inc.fields.ip .. ": " .. verdict.verdict)
                if verdict.verdict ~= "malicious" then return inc:close{ reason = "not malicious" } end
                local owner = json.decode(http.get("https://cmdb.example.com/ip/" .. inc.fields.ip).body).owner
                if chat.approve("#soc", "Block " .. inc.fields.ip .. " of " .. owner .. "?") then
                  chat.post("#soc", "Blocking " .. inc.fields.ip)
                  local before = time.now()
                  time.sleep(7200)
                  inc:note(("waited %d s"):format(time.now() - before))
                end
              end,
              on_sla_breach = function(inc) inc:label("late") end,
            }
            """,
            "playbooks/block_test.lua": """
            local block = require("playbooks.block")
            test("a malicious address is blocked once approved", function()
              stub.intel{ ["203.0.113.7"] = "malicious" }
              stub.http("GET https://cmdb.example.com/ip/", { body = { owner = "finance" } })
              stub.chat("Block 203.0.113.7 of finance?", "approve")
              local result = run(block, { type = "ip", fields = { ip = "203.0.113.7" } })
              expect.note(result, "203.0.113.7: malicious")
              expect.equal(result.intel, { "203.0.113.7" })
              expect.equal(result.http[1].url, "https://cmdb.example.com/ip/203.0.113.7")
              expect.post(result, "#soc", "Blocking 203.0.113.7")
              expect.note(result, "waited 7200 s")
              expect.contains(result.incident.labels, "late")
            end)
            test("an address with no verdict is closed", function()
              local result = run(block, { type = "ip", fields = { ip = "198.51.100.1" } })
              expect.note(result, "198.51.100.1: unknown")
              expect.equal(result.incident.status, "closed")
            end)
            test("a request that is not stubbed says how to stub it", function()
              stub.intel{ ["203.0.113.7"] = "malicious" }
              run(block, { type = "ip", fields = { ip = "203.0.113.7" } })
            end)
            """,
        ])
        #expect(result.status == 1)
        #expect(result.stdout.contains("✔ a malicious address is blocked once approved"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ an address with no verdict is closed"), "\(result.stdout)")
        #expect(result.stdout.contains(#"./playbooks/block.lua:8: GET https://cmdb.example.com/ip/203.0.113.7 is not stubbed: add stub.http("GET https://cmdb.example.com/ip/203.0.113.7""#),
                "\(result.stdout)")
        #expect(result.stdout.contains("3 tests, 1 failed"), "\(result.stdout)")
    }

    @Test("A playbook that raises the severity moves the SLA as the server does: breached at once when already past by the test's clock")
    func severityMovesTheSLA() async throws {
        let result = try await Self.test([
            "sla.lua": #"return { malware = { low = "3d", critical = "30m" } }"#,
            "playbooks/escalate.lua": """
            return playbook {
              name = "Escalate", match = { type = "malware" },
              run = function(inc)
                time.sleep(tonumber(inc.fields.after))
                inc:raise("critical", "the sample beacons")
              end,
              on_sla_breach = function(inc) inc:label("late") end,
            }
            """,
            "playbooks/escalate_test.lua": """
            local escalate = require("playbooks.escalate")
            local function moved(result)
              for _, entry in ipairs(result.journal) do
                if entry.text:find("SLA now due", 1, true) then return entry.text end
              end
            end
            test("raised 10 minutes in, it is due 30 minutes after it opened", function()
              local result = run(escalate, { type = "malware", severity = "low", fields = { after = 600 } })
              expect.equal(math.floor(result.incident.sla_due - result.incident.created_at + 0.5), 1800)
              expect.equal(#(result.incident.labels or {}), 0)
              -- Past or not by the test's clock, not the wall clock.
              expect.equal(moved(result), "SLA now due 2026-01-05 09:30 UTC: critical malware, 30m")
            end)
            test("raised 40 minutes in, it is breached at once and its hook runs", function()
              local result = run(escalate, { type = "malware", severity = "low", fields = { after = 2400 } })
              expect.contains(result.incident.labels, "late")
              expect.equal(moved(result), "SLA now due 2026-01-05 09:30 UTC: critical malware, 30m, already past")
            end)
            """,
        ])
        #expect(result.status == 0 && result.stdout.contains("2 tests, 0 failed"), "\(result.stdout)\(result.stderr)")
    }

    @Test("Response actions are recorded, never sent: planned by default, stubbed outcomes, refusals, checked parameters")
    func actions() async throws {
        func integration(_ name: String, _ action: String, _ params: String) -> String {
            """
            return integration { name = "\(name)", actions = { \(action) = { risk = "low", params = { \(params) },
                                                                         run = function() end } } }
            """
        }
        let result = try await Self.test([
            "integrations/checkpoint.lua": integration("Check Point", "block_ip", #"ip = { type = "ip", required = true }"#),
            "integrations/pagerduty.lua": integration("PagerDuty", "trigger", #"summary = { type = "string", required = true }"#),
            "integrations/entra.lua": integration("Entra", "disable_user", #"user = { type = "account", required = true }"#),
            "playbooks/contain.lua": """
            return playbook {
              name = "Contain",
              run = function(inc)
                local blocked, why = actions.run("checkpoint.block_ip", { ip = inc.fields.ip }, { incident = inc })
                inc:note(blocked and ("block " .. blocked.status) or ("not blocked: " .. why))
                local paged = actions.run("pagerduty.trigger", { summary = inc.title })
                inc:note("page " .. paged.status)
              end,
            }
            """,
            "playbooks/contain_test.lua": """
            local contain = require("playbooks.contain")
            test("the block is planned and the page stubbed as done", function()
              stub.action("pagerduty.trigger", { status = "done", result = { dedup_key = "k" } })
              local result = run(contain, { title = "C2 beacon", fields = { ip = "203.0.113.7" } })
              expect.note(result, "block planned")
              expect.note(result, "page done")
              expect.equal(expect.action(result, "checkpoint.block_ip", { ip = "203.0.113.7" }).incident, result.incident.id)
              expect.action(result, "pagerduty.trigger")
            end)
            test("a block nobody approved", function()
              stub.action("checkpoint.block_ip", false, "denied by alice")
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.note(result, "not blocked: denied by alice")
            end)
            test("an action the playbook did not call fails the expectation", function()
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.action(result, "entra.disable_user")
            end)
            test("a bad parameter fails at the playbook's call, as a real call would", function()
              run(contain, { fields = { ip = "203.0.113.0/24" } })
            end)
            test("an expectation with parameters the action does not take", function()
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.action(result, "checkpoint.block_ip", { address = "203.0.113.7" })
            end)
            test("a stub of an action no integration declares", function()
              stub.action("checkpoint.nuke", { status = "done" })
            end)
            """,
        ])
        #expect(result.status == 1)
        #expect(result.stdout.contains("./playbooks/contain.lua:4: actions.run: checkpoint.block_ip: ip must be one IP "
            + "address, not a network"), "\(result.stdout)")
        #expect(result.stdout.contains(#"./playbooks/contain_test.lua:24: expect.action: checkpoint.block_ip has no "#
            + #"parameter "address": it takes ip"#), "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/contain_test.lua:27: stub.action: there is no action checkpoint.nuke: "
            + "the actions are checkpoint.block_ip, entra.disable_user, pagerduty.trigger"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ the block is planned and the page stubbed as done"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ a block nobody approved"), "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/contain_test.lua:17: no action entra.disable_user; the actions are"),
                "\(result.stdout)")
        #expect(result.stdout.contains("6 tests, 4 failed"), "\(result.stdout)")
    }

    @Test("A typo in actions.run's options, or the incident where they belong, fails the test as it fails on a server")
    func misspelledActionOptions() async throws {
        let result = try await Self.test([
            "integrations/vpn.lua": Self.vpn,
            "playbooks/disable.lua": """
            return playbook {
              name = "Disable",
              run = function(inc)
                if inc.fields.mistake == "typo" then
                  actions.run("vpn.disable", { account = "j.doe" }, { incident = inc, dryrun = true })
                else
                  actions.run("vpn.disable", { account = "j.doe" }, inc)
                end
              end,
            }
            """,
            "playbooks/disable_test.lua": """
            local disable = require("playbooks.disable")
            test("typo", function() run(disable, { fields = { mistake = "typo" } }) end)
            test("incident", function() run(disable, { fields = { mistake = "incident" } }) end)
            """,
        ])
        #expect(result.stdout.contains("./playbooks/disable.lua:5: actions.run: unknown option dryrun (did you mean "
            + "dry_run?): the options are channel, default_channel, dry_run, incident"), "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/disable.lua:7: actions.run: the third argument is the options, not "
            + "the incident: write actions.run(name, params, { incident = inc })"), "\(result.stdout)")
        #expect(result.stdout.contains("2 tests, 2 failed"), "\(result.stdout)")
    }

    @Test("stub.action's outcome is told as on a server: done and planned return the action, failed nil and why")
    func stubbedOutcomes() async throws {
        let result = try await Self.test([
            "integrations/vpn.lua": Self.vpn,
            "playbooks/disable.lua": Self.disable,
            "playbooks/disable_test.lua": """
            local disable = require("playbooks.disable")
            test("planned", function() expect.note(run(disable, {}), "disabled: planned j.doe") end)
            test("done", function()
              stub.action("vpn.disable", { status = "done", result = { id = "d-1" } })
              expect.note(run(disable, {}), "disabled: done j.doe")
            end)
            test("failed", function()
              stub.action("vpn.disable", { status = "failed", result = "the VPN answered 500" })
              expect.note(run(disable, {}), "not disabled: vpn.disable failed: the VPN answered 500")
            end)
            test("a field no record has", function()
              stub.action("vpn.disable", { status = "failed", reason = "the VPN answered 500" })
            end)
            """,
        ])
        #expect(result.stdout.contains("✔ planned") && result.stdout.contains("✔ done") && result.stdout.contains("✔ failed"),
                "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/disable_test.lua:12: stub.action: unknown field reason: the fields are "
            + "error, expires_at, result, status"), "\(result.stdout)")
        #expect(result.stdout.contains("4 tests, 1 failed"), "\(result.stdout)")
    }

    @Test("stub.action's error is the table an integration raised: the playbook reads its fields, and it joins as its text")
    func stubbedRaisedTable() async throws {
        let result = try await Self.test([
            "integrations/vpn.lua": Self.vpn,
            "playbooks/disable.lua": Self.disable,
            "playbooks/disable_test.lua": """
            local disable = require("playbooks.disable")
            test("raised", function()
              local raised = { code = "quota", retry_after = 30, detail = { region = "eu" } }
              stub.action("vpn.disable", { status = "failed", error = raised })
              local outcome = run(disable, {})
              expect.note(outcome, "retry in 30s (eu)")
              expect.note(outcome, 'not disabled: vpn.disable failed: {code = "quota", retry_after = 30}')
              local acted
              for _, entry in ipairs(outcome.journal) do if entry.kind == "action" then acted = entry.text end end
              expect.equal(acted, 'ACT-test1: vpn.disable account=j.doe failed: {code = "quota", retry_after = 30}')
            end)
            test("error as text", function()
              stub.action("vpn.disable", { status = "failed", error = "the VPN answered 500" })
            end)
            test("result as a table", function()
              stub.action("vpn.disable", { status = "failed", result = { code = "quota" } })
            end)
            test("not JSON", function()
              stub.action("vpn.disable", { status = "failed", error = { retry = function() end } })
            end)
            """,
        ])
        #expect(result.stdout.contains("✔ raised"), "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/disable_test.lua:13: stub.action: error is the table a failed "
            + #"action's integration raised, its text made from it as on a server: { status = "failed", error = { code = "#
            + #""quota", retry_after = 30 } }"#), "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/disable_test.lua:16: stub.action: a failed action's result is its "
            + "text; the table its integration raised is error"), "\(result.stdout)")
        #expect(result.stdout.contains("./playbooks/disable_test.lua:19: stub.action: error must be a table JSON can hold"),
                "\(result.stdout)")
        #expect(result.stdout.contains("4 tests, 3 failed"), "\(result.stdout)")
    }

    @Test("A planned action has the ttl it would have had: the call's, else the one its action declares")
    func plannedTTL() async throws {
        let result = try await Self.test([
            "integrations/edr.lua": """
            return integration { name = "EDR", actions = {
              isolate = { risk = "low", undo = "release", ttl = "2h", params = { host = { type = "host", required = true } },
                          run = function() end },
              release = { risk = "low", params = { host = { type = "host", required = true } }, run = function() end } } }
            """,
            "playbooks/isolate.lua": """
            return playbook {
              name = "Isolate",
              run = function(inc)
                local declared = actions.run("edr.isolate", { host = "ws-1" }, { incident = inc, dry_run = true })
                local asked = actions.run("edr.isolate", { host = "ws-1" }, { incident = inc, ttl = "30m" })
                inc:note(("ttl %d and %d, %s and %s"):format(declared.ttl, asked.ttl, declared.status, asked.status))
              end,
            }
            """,
            "playbooks/isolate_test.lua": """
            local isolate = require("playbooks.isolate")
            test("ttl", function() expect.note(run(isolate, {}), "ttl 7200 and 1800, planned and planned") end)
            -- A stubbed outcome is for what would be sent: a dry run stays planned.
            test("stubbed", function()
              stub.action("edr.isolate", { status = "done" })
              expect.note(run(isolate, {}), "ttl 7200 and 1800, planned and done")
            end)
            """,
        ])
        #expect(result.stdout.contains("✔ ttl"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ stubbed"), "\(result.stdout)")
    }

    /// An EDR whose isolate and block have an undo, and whose scan has none.
    static let edr = """
        return integration { name = "EDR", actions = {
          isolate = { risk = "low", undo = "release", params = { host = { type = "host", required = true } },
                      run = function() end },
          release = { risk = "low", params = { host = { type = "host", required = true } }, run = function() end },
          scan = { risk = "low", params = { host = { type = "host", required = true } }, run = function() end },
          block = { risk = "low", undo = "unblock", params = { ip = { type = "ip", required = true } },
                    run = function() end },
          unblock = { risk = "low", params = { ip = { type = "ip", required = true } }, run = function() end } } }
        """

    @Test("actions.undo reverses a done action as on a server, journaled at the test's time; a stubbed failure raises the server's error")
    func undo() async throws {
        let result = try await Self.test([
            "integrations/edr.lua": Self.edr,
            "playbooks/isolate.lua": """
            return playbook {
              name = "Isolate",
              run = function(inc)
                local isolated = actions.run("edr.isolate", { host = "ws-1" }, { incident = inc })
                local ok, why = pcall(actions.undo, isolated.id)
                inc:note(ok and "released" or ("not released: " .. tostring(why)))
                local scanned = actions.run("edr.scan", { host = "ws-1" }, { incident = inc })
                if scanned then inc:note(select(2, pcall(actions.undo, scanned.id))) end
              end,
            }
            """,
            "playbooks/isolate_test.lua": """
            local isolate = require("playbooks.isolate")
            test("released", function()
              stub.action("edr.isolate", { status = "done" })
              stub.action("edr.scan", { status = "done" })
              local result = run(isolate, {})
              expect.note(result, "released")
              expect.equal(expect.action(result, "edr.isolate", { host = "ws-1" }).undone, true)
              expect.journal(result, "ACT-test1: undone by script with edr.release: null")
              expect.note(result, "actions.undo: edr.scan has no undo: reverse ACT-test2 by hand")
            end)
            test("planned", function()
              expect.note(run(isolate, {}), "not released: actions.undo: ACT-test1 is planned, not done: there is nothing to undo")
            end)
            test("still in force", function()
              stub.action("edr.isolate", { status = "done" })
              stub.action("edr.release", { status = "failed", result = "the EDR answered 503" })
              local result = run(isolate, {})
              expect.note(result, "not released: actions.undo: ACT-test1 edr.isolate host=ws-1 is still in force: edr.release failed: the EDR answered 503. Run the undo again")
              expect.equal(expect.action(result, "edr.isolate").undone, nil)
              expect.journal(result, "is still in force: edr.release failed: the EDR answered 503 (undo asked by script)")
            end)
            """,
        ])
        #expect(result.stdout.contains("✔ released"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ still in force"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ planned"), "\(result.stdout)")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }

    @Test("An actions.run the checks refuse is kept as refused, as on a server: actions.history shows it, revert_all passes it")
    func refusedKept() async throws {
        let result = try await Self.test([
            "integrations/edr.lua": Self.edr,
            "playbooks/block.lua": """
            return playbook {
              name = "Block",
              run = function(inc)
                for _, ip in ipairs({ "not an address", "203.0.113.7" }) do
                  local ok, why = pcall(actions.run, "edr.block", { ip = ip }, { incident = inc })
                  if not ok then inc:note("refused: " .. tostring(why)) end
                end
                -- A dry run's refusal is not kept; an action no integration declares is, as on a server.
                pcall(actions.run, "edr.block", { ip = "nowhere" }, { incident = inc, dry_run = true })
                pcall(actions.run, "edr.unknown", {}, { incident = inc })
                actions.revert_all(inc)
                local said = {}
                for _, action in ipairs(actions.history(inc)) do
                  said[#said + 1] = ("%s %s %s %s: %s"):format(action.id, action.name, action.params.ip, action.status,
                                                               action.result)
                end
                inc:note(table.concat(said, "; "))
              end,
            }
            """,
            "playbooks/block_test.lua": """
            local block = require("playbooks.block")
            test("refused kept", function()
              stub.action("edr.block", { status = "done" })
              local result = run(block, {})
              local refused = expect.note(result, "refused: "):match("actions%.run: (.*)$")
              expect.note(result, "ACT-test3 edr.unknown nil refused: there is no action edr.unknown: the actions are ")
              expect.note(result, "; ACT-test2 edr.block 203.0.113.7 undone: nil; ACT-test1 edr.block not an address "
                .. "refused: " .. refused)
              expect.no_note(result, "ACT-test4")
              -- Only the calls the checks passed are the playbook's actions.
              expect.equal(#result.actions, 1)
            end)
            """,
        ])
        #expect(result.stdout.contains("✔ refused kept"), "\(result.stdout)")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }

    @Test("actions.revert_all undoes an incident's done actions that have an undo, newest first, as on a server; it stops at one that fails")
    func revertAll() async throws {
        let result = try await Self.test([
            "integrations/edr.lua": Self.edr,
            "playbooks/contain.lua": """
            return playbook {
              name = "Contain",
              run = function(inc)
                actions.run("edr.isolate", { host = "ws-1" }, { incident = inc })
                actions.run("edr.scan", { host = "ws-1" }, { incident = inc })
                actions.run("edr.block", { ip = "203.0.113.7" }, { incident = inc })
                local ok, undone = pcall(actions.revert_all, inc)
                if not ok then return inc:note("not reverted: " .. tostring(undone)) end
                local said = {}
                for _, action in ipairs(undone) do
                  said[#said + 1] = ("%s %s %s by %s"):format(action.id, action.name, action.status, action.undone_by)
                end
                inc:note("reverted: " .. table.concat(said, ", "))
              end,
            }
            """,
            "playbooks/contain_test.lua": """
            local contain = require("playbooks.contain")
            test("reverted", function()
              stub.action("edr.isolate", { status = "done" })
              stub.action("edr.scan", { status = "done" })
              stub.action("edr.block", { status = "done" })
              local result = run(contain, {})
              expect.note(result, "reverted: ACT-test3 edr.block undone by script, ACT-test1 edr.isolate undone by script")
              expect.equal(expect.action(result, "edr.block").undone, true)
              expect.equal(expect.action(result, "edr.isolate").undone, true)
              expect.equal(expect.action(result, "edr.scan").undone, nil)
              expect.journal(result, "ACT-test3: undone by script with edr.unblock: null")
              expect.journal(result, "ACT-test1: undone by script with edr.release: null")
            end)
            test("nothing done", function()
              expect.equal(run(contain, {}).notes, { "reverted: " })
            end)
            test("stopped", function()
              stub.action("edr.isolate", { status = "done" })
              stub.action("edr.block", { status = "done" })
              stub.action("edr.release", { status = "failed", result = "the EDR answered 503" })
              local result = run(contain, {})
              expect.note(result, "not reverted: actions.undo: ACT-test1 (edr.isolate) was not undone: edr.release failed: "
                .. "the EDR answered 503; undone before it: ACT-test3; still done: ACT-test1: automator action undo "
                .. "--incident INC-1 undoes them once that is fixed")
              expect.equal(expect.action(result, "edr.block").undone, true)
              expect.equal(expect.action(result, "edr.isolate").undone, nil)
              expect.journal(result, "ACT-test1 edr.isolate host=ws-1 is still in force: edr.release failed: "
                .. "the EDR answered 503 (undo asked by script)")
            end)
            test("no incident", function()
              expect.error(function() actions.revert_all() end, "actions.revert_all expects an incident")
              expect.error(function() actions.revert_all(42) end, "actions.revert_all: incident must be an incident")
            end)
            """,
        ])
        for name in ["reverted", "nothing done", "stopped", "no incident"] {
            #expect(result.stdout.contains("✔ \(name)"), "\(result.stdout)")
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }

    @Test("actions.history gives the test's actions as a server does, newest first; actions.list what the integrations declare")
    func historyAndList() async throws {
        let result = try await Self.test([
            "integrations/edr.lua": Self.edr,
            "playbooks/audit.lua": """
            return playbook {
              name = "Audit",
              run = function(inc)
                actions.run("edr.isolate", { host = "ws-1" }, { incident = inc, dry_run = true })
                actions.run("edr.scan", { host = "ws-1" }, { incident = inc })
                actions.run("edr.block", { ip = "203.0.113.7" }, { incident = inc })
                actions.undo(actions.run("edr.isolate", { host = "ws-1" }, { incident = inc }).id)
                actions.run("edr.scan", { host = "ws-9" })
                local said = {}
                for _, action in ipairs(actions.history(inc)) do said[#said + 1] = action.id .. " " .. action.status end
                inc:note("history: " .. table.concat(said, ", "))
                local all = actions.history()
                inc:note(("all: %d, the newest %s on %s"):format(#all, all[1].id, tostring(all[1].incident)))
              end,
            }
            """,
            "playbooks/audit_test.lua": """
            local audit = require("playbooks.audit")
            test("history", function()
              stub.action("edr.scan", { status = "failed", result = "the EDR answered 503" })
              stub.action("edr.block", false, "denied by slack:bob")
              stub.action("edr.isolate", { status = "done", result = { id = "c-1" } })
              local result = run(audit, {})
              expect.note(result, "history: ACT-test4 undone, ACT-test3 denied, ACT-test2 failed, ACT-test1 planned")
              expect.note(result, "all: 5, the newest ACT-test5 on nil")
              local undone = actions.history(result.incident)[1]
              expect.equal({ undone.name, undone.params.host, undone.result.id, undone.undone_by, undone.requested_by },
                           { "edr.isolate", "ws-1", "c-1", "script", "script" })
              expect.equal(actions.history(result.incident.id)[2].result, "denied by slack:bob")
              -- Ten and more keep the order of the calls, made at the same time on the virtual clock.
              local again = run(audit, {})
              expect.note(again, "history: ACT-test9 undone, ACT-test8 denied, ACT-test7 failed, ACT-test6 planned")
              expect.note(again, "all: 10, the newest ACT-test10 on nil")
            end)
            test("unknown incident", function()
              expect.error(function() actions.history("INC-99") end, "actions.history: there is no incident INC-99")
            end)
            test("list", function()
              local declared = {}
              for _, action in ipairs(actions.list()) do declared[action.name] = action end
              expect.equal({ declared["edr.isolate"].undo, declared["edr.isolate"].risk, declared["edr.isolate"].params.host.type },
                           { "release", "low", "host" })
              expect.equal(declared["edr.unblock"].undo, nil)
            end)
            """,
        ])
        for name in ["history", "unknown incident", "list"] {
            #expect(result.stdout.contains("✔ \(name)"), "\(result.stdout)")
        }
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    }

    @Test("expect.action compares the parameters it lists, and a mismatch shows what was called beside what was expected")
    func expectedActionParameters() async throws {
        let result = try await Self.test([
            "integrations/checkpoint.lua": """
            return integration { name = "Check Point", actions = { block_ip = { risk = "low",
              params = { ip = { type = "ip", required = true }, comment = { type = "string" } }, run = function() end } } }
            """,
            "playbooks/contain.lua": """
            return playbook {
              name = "Contain",
              run = function(inc)
                actions.run("checkpoint.block_ip", { ip = inc.fields.ip, comment = inc.id .. ": C2" }, { incident = inc })
              end,
            }
            """,
            "playbooks/contain_test.lua": """
            local contain = require("playbooks.contain")
            test("the address listed", function()
              expect.action(run(contain, { fields = { ip = "203.0.113.7" } }), "checkpoint.block_ip", { ip = "203.0.113.7" })
            end)
            test("another address", function()
              expect.action(run(contain, { fields = { ip = "203.0.113.7" } }), "checkpoint.block_ip", { ip = "203.0.113.8" })
            end)
            """,
        ])
        #expect(result.stdout.contains("✔ the address listed"), "\(result.stdout)")
        #expect(result.stdout.contains(#"./playbooks/contain_test.lua:6: checkpoint.block_ip was called, not with "#
            + #"{ ip = "203.0.113.8" }: its parameters were { comment = "INC-1: C2", ip = "203.0.113.7" }"#),
                "\(result.stdout)")
        #expect(result.stdout.contains("2 tests, 1 failed"), "\(result.stdout)")
    }

    @Test("expect.journal finds an entry of the journal by its text and returns it; a miss lists the journal, and expect.no_journal names the entry it found")
    func expectedJournal() async throws {
        let result = try await Self.test([
            "playbooks/triage.lua": """
            return playbook {
              name = "Triage",
              run = function(inc)
                inc:note("looked at " .. inc.fields.ip)
                inc:update{ owner = "tier1" }
              end,
            }
            """,
            "playbooks/triage_test.lua": """
            local triage = require("playbooks.triage")
            test("found", function()
              local result = run(triage, { fields = { ip = "203.0.113.7" } })
              local entry = expect.journal(result, "looked at 203.0.113.7")
              expect.equal({ entry.kind, entry.actor, entry.text }, { "note", "script", "looked at 203.0.113.7" })
              expect.no_journal(result, "tier2")
            end)
            test("missing", function()
              expect.journal(run(triage, { fields = { ip = "203.0.113.7" } }), "tier2")
            end)
            test("there after all", function()
              expect.no_journal(run(triage, { fields = { ip = "203.0.113.7" } }), "looked at")
            end)
            """,
        ])
        #expect(result.stdout.contains("✔ found"), "\(result.stdout)")
        #expect(result.stdout.contains(#"./playbooks/triage_test.lua:9: no journal entry contains "tier2"; the journal is { "#),
                "\(result.stdout)")
        #expect(result.stdout.contains(#""note by script: looked at 203.0.113.7""#), "\(result.stdout)")
        #expect(result.stdout.contains(#"./playbooks/triage_test.lua:12: expected no journal entry containing "looked at", "#
            + #"got note by script: "looked at 203.0.113.7""#), "\(result.stdout)")
        #expect(result.stdout.contains("3 tests, 2 failed"), "\(result.stdout)")
    }

    @Test("An action that needs an approval asks for it as on the server; --config's protected networks refuse")
    func approvalsAndProtection() async throws {
        let files = [
            "integrations/checkpoint.lua": Self.checkpoint,
            "playbooks/contain.lua": """
            return playbook {
              name = "Contain",
              run = function(inc)
                local blocked, why = actions.run("checkpoint.block_ip", { ip = inc.fields.ip }, { incident = inc })
                inc:note(blocked and ("block " .. blocked.status .. " by " .. blocked.approved_by) or ("not blocked: " .. why))
              end,
            }
            """,
            "playbooks/contain_test.lua": """
            local contain = require("playbooks.contain")
            test("approved", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:alice")
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.note(result, "block planned by slack:alice")
              expect.contains(result.questions[1].text, "Approve checkpoint.block_ip ip=203.0.113[.]7? (risk high, INC-1)")
              expect.equal(result.questions[1].channel, nil, "no channel is configured")
            end)
            test("denied", function()
              stub.chat("Approve checkpoint.block_ip", "deny", "slack:bob")
              expect.note(run(contain, { fields = { ip = "203.0.113.7" } }), "not blocked: denied by slack:bob")
            end)
            test("standing", function()
              local standing = { name = "Standing", approvals = { "checkpoint.block_ip" }, run = contain.run }
              local result = run(standing, { fields = { ip = "203.0.113.7" } })
              expect.note(result, "block planned by standing approval of the playbook")
              expect.equal(#result.questions, 0)
            end)
            test("nobody answers", function()
              run(contain, { fields = { ip = "203.0.113.7" } })
            end)
            test("protected", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:alice")
              run(contain, { fields = { ip = "10.1.2.3" } })
            end)
            test("an approval stubbed as timed out asks nothing", function()
              stub.action("checkpoint.block_ip", false, "nobody approved it in time")
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.note(result, "not blocked: nobody approved it in time")
              expect.equal(#result.questions, 0)
            end)
            """,
            "automator.yml": """
            actions:
              protected: { networks: [10.0.0.0/8] }
            chat:
              roles: { approver: [alice, bob] }
            """,
        ]
        let plain = try await Self.test(files)
        #expect(plain.stdout.contains("✔ approved") && plain.stdout.contains("✔ denied") && plain.stdout.contains("✔ standing"),
                "\(plain.stdout)")
        #expect(plain.stdout.contains(#"./playbooks/contain.lua:4: the question "Approve checkpoint.block_ip ip=203.0.113[.]7? "#
            + #"(risk high, INC-1)" is not answered: add stub.chat("#), "\(plain.stdout)")
        #expect(plain.stdout.contains("✔ protected"), "without --config nothing is protected: \(plain.stdout)")
        #expect(plain.stdout.contains("✔ an approval stubbed as timed out asks nothing"), "\(plain.stdout)")

        let configured = try await Self.test(files, arguments: ["test", "--scripts", ".", "--config", "automator.yml"])
        #expect(configured.stdout.contains("./playbooks/contain.lua:4: actions.run: checkpoint.block_ip: ip 10.1.2.3 is in "),
                "\(configured.stdout)")
        #expect(configured.stdout.contains("6 tests, 2 failed"), "\(configured.stdout)")
    }

    @Test("With --config, only chat.roles.approver approves: anyone else's yes is refused, and the approval times out; with none named, no one's")
    func approverRoles() async throws {
        var files = [
            "integrations/checkpoint.lua": Self.checkpoint,
            "playbooks/contain.lua": """
            return playbook {
              name = "Contain",
              run = function(inc)
                local blocked, why = actions.run("checkpoint.block_ip", { ip = inc.fields.ip }, { incident = inc })
                inc:note(blocked and ("block " .. blocked.status .. " by " .. blocked.approved_by) or ("not blocked: " .. why))
                if chat.approve("#soc", "Page the on-call?") then inc:note("paged") end
              end,
            }
            """,
            "playbooks/contain_test.lua": """
            local contain = require("playbooks.contain")
            test("an approver approves", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:alice")
              stub.chat("Page the on-call", "approve", "alice")
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.note(result, "block planned by slack:alice")
              expect.note(result, "paged")
            end)
            test("another's yes is refused", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:mallory")
              stub.chat("Page the on-call", "approve", "slack:alice")
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.note(result, "not blocked: nobody approved it in time")
              expect.equal(time.now() - result.incident.created_at >= 1799, true, "the approval waited its timeout")
            end)
            test("chat.approve without a timeout", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:alice")
              stub.chat("Page the on-call", "approve", "slack:mallory")
              run(contain, { fields = { ip = "203.0.113.7" } })
            end)
            """,
            "automator.yml": """
            actions:
              approval: { timeout: 30m }
            chat:
              roles: { approver: [alice] }
            """,
        ]
        let result = try await Self.test(files, arguments: ["test", "--scripts", ".", "--config", "automator.yml"])
        #expect(result.stdout.contains("✔ an approver approves"), "\(result.stdout)")
        #expect(result.stdout.contains("✔ another's yes is refused"), "\(result.stdout)")
        #expect(result.stdout.contains(#"./playbooks/contain.lua:6: the question "Page the on-call?" has no answer an "#
            + #"approver gave (mallory may not approve actions: chat.roles.approver in the configuration names who may): "#
            + #"add stub.chat("Page the on-call?", "approve", "slack:NAME")"#), "\(result.stdout)")
        #expect(result.stdout.contains("3 tests, 1 failed"), "\(result.stdout)")
        let plain = try await Self.test(files)
        #expect(plain.stdout.contains("3 tests, 1 failed"), "without --config the test is the operator: \(plain.stdout)")
        #expect(plain.stdout.contains("✘ another's yes is refused"), "\(plain.stdout)")

        // With no approver named, no one's yes counts, as on a server, where an operator then answers.
        files["automator.yml"] = "actions:\n  approval: { timeout: 30m }\n"
        let unnamed = try await Self.test(files, arguments: ["test", "--scripts", ".", "--config", "automator.yml"])
        #expect(unnamed.stdout.contains(#"./playbooks/contain.lua:6: the question "Page the on-call?" has no answer "#
            + #"an approver gave (no one has the role approver yet: chat.roles.approver in the server's configuration "#
            + #"(--config) names them; meanwhile an operator answers with automator question answer): "#), "\(unnamed.stdout)")
        #expect(unnamed.stdout.contains("3 tests, 3 failed"), "\(unnamed.stdout)")
    }

    @Test("With --config, a chat.ask for no roles offering exactly approve and deny is an approval, as on a server")
    func askedApproval() async throws {
        var files = [
            "playbooks/disable.lua": """
            return playbook {
              name = "Disable",
              run = function(inc)
                local answer, by = chat.ask("#soc", "Disable the account?", { "approve", "deny" }, { timeout = 600 })
                inc:note(answer .. " by " .. by)
              end,
            }
            """,
            "playbooks/disable_test.lua": """
            local disable = require("playbooks.disable")
            test("an approver's answer counts", function()
              stub.chat("Disable the account?", "approve", "slack:alice")
              expect.note(run(disable, {}), "approve by slack:alice")
            end)
            test("another's is refused", function()
              stub.chat("Disable the account?", "approve", "slack:mallory")
              expect.note(run(disable, {}), "timeout by automator")
            end)
            """,
            "automator.yml": "chat: { roles: { approver: [alice] } }\n",
        ]
        let configured = try await Self.test(files, arguments: ["test", "--scripts", ".", "--config", "automator.yml"])
        #expect(configured.stdout.contains("2 tests, 0 failed"), "\(configured.stdout)")
        files["automator.yml"] = "chat: { roles: { lead: [alice] } }\n"
        let unnamed = try await Self.test(files, arguments: ["test", "--scripts", ".", "--config", "automator.yml"])
        #expect(unnamed.stdout.contains("✘ an approver's answer counts"), "no one holds approver: \(unnamed.stdout)")
        #expect(unnamed.stdout.contains("2 tests, 1 failed"), "\(unnamed.stdout)")
    }

    @Test("actions.plan works in a test as on a server; --config's chat.roles decide who answers a chat.ask for roles")
    func planAndQuestionRoles() async throws {
        let files = [
            "integrations/checkpoint.lua": Self.checkpoint,
            "playbooks/contain.lua": """
            return playbook {
              name = "Contain",
              run = function(inc)
                local plan = actions.plan("checkpoint.block_ip", { ip = inc.fields.ip }, { incident = inc })
                inc:note(("plan: %s, approval %s, in %s"):format(plan.summary, plan.approval, tostring(plan.channel)))
                local answer, by = chat.ask("#soc", "Wake the lead?", { "yes", "no" }, { roles = { "lead" }, timeout = 600 })
                inc:note("lead: " .. answer .. " by " .. by)
              end,
            }
            """,
            "playbooks/contain_test.lua": """
            local contain = require("playbooks.contain")
            test("a lead answers", function()
              stub.chat("Wake the lead?", "yes", "slack:alice")
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              expect.note(result, "plan: checkpoint.block_ip ip=203.0.113.7, approval required, in #soc")
              expect.note(result, "lead: yes by slack:alice")
            end)
            test("another's answer is refused", function()
              stub.chat("Wake the lead?", "yes", "slack:mallory")
              expect.note(run(contain, { fields = { ip = "203.0.113.7" } }), "lead: timeout by automator")
            end)
            """,
            "automator.yml": """
            actions: { approval: { channel: "#soc" } }
            chat: { roles: { lead: [alice] } }
            """,
        ]
        let configured = try await Self.test(files, arguments: ["test", "--scripts", ".", "--config", "automator.yml"])
        #expect(configured.stdout.contains("2 tests, 0 failed"), "\(configured.stdout)")
        let plain = try await Self.test(files)
        #expect(plain.stdout.contains("✘ another's answer is refused"), "without --config anyone answers: \(plain.stdout)")
        #expect(plain.stdout.contains("2 tests, 2 failed"), "no channel without --config: \(plain.stdout)")
    }

    @Test("The test's journal holds what the server's would: the approval asked and answered, the action's outcome and its question")
    func journalOfActions() async throws {
        let result = try await Self.test([
            "integrations/checkpoint.lua": Self.checkpoint,
            "playbooks/contain.lua": """
            return playbook {
              name = "Contain",
              run = function(inc)
                local blocked, why = actions.run("checkpoint.block_ip", { ip = inc.fields.ip }, { incident = inc })
                if blocked then inc:note(("%s approved in %s"):format(blocked.id, blocked.question)) end
              end,
            }
            """,
            "playbooks/contain_test.lua": """
            local contain = require("playbooks.contain")
            local function lines(result)
              local all = {}
              for _, entry in ipairs(result.journal) do all[#all + 1] = entry.kind .. " " .. entry.actor .. " " .. entry.text end
              return all
            end
            local question = "Approve checkpoint.block_ip ip=203.0.113[.]7? (risk high, INC-1)"
            test("approved and done", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:alice")
              stub.action("checkpoint.block_ip", { status = "done", result = { uid = "h-1" } })
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              local journal = lines(result)
              expect.contains(journal, "approval automator asked Q-test1 in #soc: " .. question .. " (approve, deny) "
                              .. "(approver only)")
              -- The action names its question, as a server's record does (action JSON's question).
              expect.note(result, "ACT-test1 approved in Q-test1")
              expect.equal(expect.action(result, "checkpoint.block_ip").question, "Q-test1")
              expect.equal(result.questions[1].id, "Q-test1")
              expect.contains(journal, "approval slack:alice " .. question .. ": approve")
              expect.contains(journal, 'action script ACT-test1: ran checkpoint.block_ip ip=203.0.113.7, approved by '
                              .. 'slack:alice: {"uid":"h-1"}')
            end)
            test("denied", function()
              stub.chat("Approve checkpoint.block_ip", "deny", "slack:alice")
              local result = run(contain, { fields = { ip = "203.0.113.7" } })
              local journal = lines(result)
              expect.contains(journal, "approval slack:alice " .. question .. ": deny")
              expect.contains(journal, "action script ACT-test1: not run: checkpoint.block_ip ip=203.0.113.7 "
                              .. "(asked by script): denied by slack:alice (Q-test1)")
              expect.equal(expect.action(result, "checkpoint.block_ip").question, "Q-test1")
            end)
            test("a non-approver's answer is refused", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:mallory")
              local journal = lines(run(contain, { fields = { ip = "203.0.113.7" } }))
              expect.contains(journal, "refused slack:mallory answer approve to Q-test1 (" .. question .. "), for the "
                              .. "role approver")
              -- As a server journals a question nobody answered: when, where and for whom it was asked.
              expect.contains(journal, "approval automator Q-test1 timed out, not approved: nobody answered by "
                              .. "2026-01-05T10:00:00.000Z; asked the role approver in #soc at 2026-01-05T09:00:00.000Z: "
                              .. question)
              expect.contains(journal, "action script ACT-test1: not run: checkpoint.block_ip ip=203.0.113.7 "
                              .. "(asked by script): nobody approved it in time (Q-test1)")
            end)
            test("approved and failed", function()
              stub.chat("Approve checkpoint.block_ip", "approve", "slack:alice")
              stub.action("checkpoint.block_ip", { status = "failed", result = "Check Point answered 500" })
              local journal = lines(run(contain, { fields = { ip = "203.0.113.7" } }))
              expect.contains(journal, "action script ACT-test1: checkpoint.block_ip ip=203.0.113.7, approved by "
                              .. "slack:alice failed: Check Point answered 500")
            end)
            """,
            "automator.yml": """
            actions: { approval: { channel: "#soc" } }
            chat: { roles: { approver: [alice] } }
            """,
        ], arguments: ["test", "--scripts", ".", "--config", "automator.yml"])
        #expect(result.stdout.contains("4 tests, 0 failed"), "\(result.stdout)")
    }

    @Test("The virtual clock starts at the same instant in every run: due dates and time.now() are exact")
    func fixedClock() async throws {
        let files = [
            "playbooks/call.lua": """
            return playbook {
              name = "Call",
              sla = "2h",
              run = function(inc) inc:task{ title = "Call the user", due = "30m" }:wait() end,
            }
            """,
            "playbooks/call_test.lua": """
            test("the clock", function()
              expect.equal(os.date("!%Y-%m-%dT%H:%M:%SZ", time.now()), "2026-01-05T09:00:00Z")
              stub.task("Call the user", "done", { after = "10m" })
              local result = run(require("playbooks.call"), {})
              expect.equal(result.incident.created_at, 1767603600)
              expect.equal(expect.task(result, "Call the user").due, 1767603600 + 1800)
              expect.equal(time.now(), 1767603600 + 600)
              print(result.journal[2].text)
            end)
            """,
        ]
        let result = try await Self.test(files)
        #expect(result.stdout.contains("1 test, 0 failed"), "\(result.stdout)")
        #expect(result.stdout.contains("T-1 Call the user, due 2026-01-05T09:30:00.000Z"), "\(result.stdout)")
    }

    @Test("A task the test gives no answer fails at its wait, saying which stub to add")
    func missingTaskAnswer() async throws {
        let result = try await Self.test([
            "playbooks/ask.lua": """
            return playbook {
              name = "Ask",
              run = function(inc)
                inc:task{ title = "Call the user" }:wait()
              end,
            }
            """,
            "playbooks/ask_test.lua": #"test("asks", function() run(require("playbooks.ask"), {}) end)"#,
        ])
        #expect(result.status == 1)
        #expect(result.stdout.contains(#"./playbooks/ask.lua:4: incidents.wait: the playbook waits on task T-1 "Call the user" and the test gives it no answer: add stub.task("Call the user", "the answer")"#),
                "\(result.stdout)")
    }

    @Test("A file that declares no test fails: given by mistake, it would read as tested")
    func noTest() async throws {
        let result = try await Self.test(["hi.lua": "print('hi')\n"], arguments: ["test", "hi.lua", "--scripts", "."])
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("hi.lua declares no test: a test file calls test("), "\(result.stdout)")
    }

    @Test("A test declared inside another's body, or a name declared twice, fails at its lines: neither would run")
    func misplacedTests() async throws {
        let nested = try await Self.test([
            "playbooks/nested_test.lua": """
            test("outer", function()
              test("inner", function() end)
            end)
            """,
        ])
        #expect(nested.status == 1, "\(nested.stdout)")
        #expect(nested.stdout.contains("✘ outer"), "\(nested.stdout)")
        #expect(nested.stdout.contains("./playbooks/nested_test.lua:2: test() inside test 'outer': declare tests at "
            + "the top level of the file"), "\(nested.stdout)")

        let twice = try await Self.test([
            "playbooks/twice_test.lua": """
            test("closes", function() end)

            test("closes", function() end)
            """,
        ])
        #expect(twice.status == 1, "\(twice.stdout)")
        #expect(twice.stdout.contains("✘ the file failed: ./playbooks/twice_test.lua:3: test 'closes' is declared "
            + "twice, at lines 1 and 3: give each test a name of its own"), "\(twice.stdout)")
    }

    /// An integration with one low-risk action, `vpn.disable { account }`.
    private static let vpn = """
        return integration { name = "VPN", actions = { disable = { risk = "low",
          params = { account = { type = "account", required = true } }, run = function() end } } }
        """

    /// A playbook that disables j.doe through `vpn` and notes how it went: a raised table's fields, then why.
    private static let disable = """
        return playbook {
          name = "Disable",
          run = function(inc)
            local done, why = actions.run("vpn.disable", { account = "j.doe" }, { incident = inc })
            if type(why) == "table" then inc:note(("retry in %ds (%s)"):format(why.retry_after, why.detail.region)) end
            inc:note(done and ("disabled: " .. done.status .. " " .. done.params.account) or ("not disabled: " .. why))
          end,
        }
        """

    /// An integration with one action of high risk, which needs an approval.
    /// A playbook that closes its incident as "done".
    @Test("A test's playbook that closes its incident runs hooks/incident_closed.lua on it, once; one that does not, never")
    func closeHook() async throws {
        let result = try await Self.test([
            "hooks/incident_closed.lua": """
                local inc = ...
                inc:note(("told the source: %s, %s"):format(inc.resolution, inc.close_reason))
                """,
            "playbooks/triage.lua": """
                return playbook {
                  name = "Triage",
                  run = function(inc)
                    if inc.fields.scan then inc:close{ reason = "an admin's scan", resolution = "benign" } end
                  end,
                }
                """,
            "playbooks/triage_test.lua": """
                local triage = require("playbooks.triage")
                test("a scan is closed, and the source told", function()
                  local result = run(triage, { fields = { scan = true } })
                  expect.equal(result.incident.resolution, "benign")
                  expect.equal(result.notes, { "told the source: benign, an admin's scan" })
                end)
                test("an open incident tells nobody", function()
                  expect.equal(run(triage, {}).notes, {})
                end)
                """,
        ])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("✔ a scan is closed, and the source told") && result.stdout.contains(" 0 failed"),
                "\(result.stdout)")
    }

    private static let close = """
        return playbook {
          name = "Close",
          run = function(inc) inc:close{ reason = "done" } end,
        }
        """

    private static let checkpoint = """
        return integration { name = "Check Point", actions = { block_ip = { risk = "high",
          params = { ip = { type = "ip", required = true } }, run = function() end } } }
        """

    /// Runs `automator test` in a scripts folder made of `files` (path: contents).
    private static func test(_ files: [String: String], arguments: [String] = ["test", "--scripts", "."]) async throws
        -> AutomatorProcess.Result
    {
        let folder = try TemporaryFolder()
        for (path, contents) in files { try folder.write(path, contents) }
        return try await AutomatorProcess.run(arguments, in: folder.url)
    }
}
