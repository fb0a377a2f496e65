import Foundation
import Testing

@Suite("automator check: mistakes in scripts found without running them")
struct CheckCommandTests {
    @Test("The shipped scripts have no problems")
    func shippedScripts() async throws {
        let result = try await AutomatorProcess.run(["check", "--scripts", "."], in: PlaybookTrialTests.scripts)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("files checked: no problems"), "\(result.stdout)")
    }

    @Test("A scripts folder that is a link (scripts -> a checkout) is searched as the folder it names, by check and test")
    func linkedScripts() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createSymbolicLink(atPath: folder.url.appendingPathComponent("linked").path,
                                                   withDestinationPath: PlaybookTrialTests.scripts.path)
        let direct = try await AutomatorProcess.run(["check", "--scripts", "."], in: PlaybookTrialTests.scripts)
        let linked = try await AutomatorProcess.run(["check", "--scripts", "linked"], in: folder.url)
        #expect(linked.status == 0 && linked.stdout == direct.stdout, "\(linked.stdout)\(linked.stderr)")
        let tests = try await AutomatorProcess.run(["test", "--scripts", "linked"], in: folder.url)
        #expect(tests.status == 0 && tests.stdout.contains("phishing_test.lua"), "\(tests.stdout)\(tests.stderr)")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("empty"), withIntermediateDirectories: false)
        let empty = try await AutomatorProcess.run(["check", "--scripts", "empty"], in: folder.url)
        #expect(empty.status == 64 && empty.stderr.contains("error: no .lua files under empty\n"), "named: \(empty.stderr)")
    }

    @Test("Each kind of mistake is reported at its file:line, without running a playbook")
    func mistakes() async throws {
        let folder = try TemporaryFolder()
        try folder.write("playbooks/typo.lua", """
            local function helper(inc)
              count = 1
              return incidnets.find{ text = inc.id }
            end

            return playbook {
              name = "Typo",
              match = { kind = "phishing" },
              run = function(inc)
                helper(inc)
              end,
            }
            """)
        try folder.write("playbooks/norun.lua", """
            -- No run: the catalog would refuse it.
            return playbook {
              name = "No run",
              match = { type = "x" },
            }
            """)
        try folder.write("playbooks/syntax.lua", "local x = = 1\n")
        try folder.write("commands/hello.lua", """
            -- No run either: the bot would refuse it.
            return command {
              name = "hello",
            }
            """)
        // Far down a long file, where Lua's line table switches to absolute lines.
        try folder.write("lib/long.lua", String(repeating: "print(1)\n", count: 300) + "return undefined_name\n")
        try folder.write("playbooks/fine_test.lua", #"test("x", function() expect.equal(1, 1) end)"# + "\n")
        try folder.write("integrations/needs_key.lua", """
            return integration {
              name = "Needs a key",
              config = { api_key = { secret = true, required = true } },
              reputation = { ip = function(ip, config) return { verdict = "unknown" } end },
              actions = { block = { risk = "low", params = { ip = { type = "ip" } }, run = function() end } },
            }
            """)
        // Shipped and not used: nothing names it, so it is off, not a problem.
        try folder.write("integrations/spare.lua", """
            return integration {
              name = "Spare",
              config = { token = { secret = true, required = true } },
              reputation = { ip = function(ip, config) return { verdict = "unknown" } end },
            }
            """)
        try folder.write("playbooks/act.lua", """
            return playbook {
              name = "Act",
              match = { type = "c2" },
              run = function(inc)
                actions.run("needs_key.block", { ip = inc.fields.ip }, { incident = inc })
                actions.run("nosuch.wipe", {})
              end,
            }
            """)
        try folder.write("playbooks/breech.lua", """
            return playbook {
              name = "Misspelt", match = { type = "w" }, run = function(inc) end,
              on_sla_breech = function(inc) end,
            }
            """)
        try folder.write("playbooks/slow.lua", """
            return playbook {
              name = "Slow", match = { type = "s" },
              sla = "4 hours",
              run = function(inc) end,
            }
            """)
        try folder.write("playbooks/approves.lua", """
            return playbook {
              name = "Approves", match = { type = "c2" },
              approvals = { "needs_key.block",
                            "nosuch.wipe" },
              run = function(inc) end,
            }
            """)
        try folder.write("feeds/bad.txt", "203.0.113.7\n999.1.1.1\n")
        try folder.write("automator.yml", "integrations:\n  virustotl:\n    enabled: true\n  needs_key:\n    rate: { per_minute: 4 }\n"
            + "  spaer:\n    enabled: true\n"
            + "chat:\n  slack:\n    bot_token: x\n"
            + "feeds:\n  - name: gone\n    path: feeds/nope.txt\n    verdict: malicious\n"
            + "  - name: bad\n    path: feeds/bad.txt\n    verdict: malicious\n")

        let result = try await AutomatorProcess.run(["check", "--scripts", ".", "--config", "automator.yml"], in: folder.url)
        #expect(result.status == 1)
        let lines = result.stdout.components(separatedBy: "\n")
        for expected in [
            "./playbooks/syntax.lua:1: unexpected symbol near '='",
            "./playbooks/typo.lua:2: assigns the global count: declare it local",
            "./playbooks/typo.lua:3: reads the undefined global incidnets",
            #"./playbooks/typo.lua:8: match names the unknown field "kind""#,
            "./playbooks/norun.lua:2: playbook: run must be function, got nil",
            "./commands/hello.lua:2: command: run must be function, got nil",
            // A breach handler misspelt would never run.
            "./playbooks/breech.lua:3: playbook: unknown field on_sla_breech (did you mean on_sla_breach?): the fields "
                + "are approvals, match, name, on_sla_breach, priority, run, sla",
            "./lib/long.lua:301: reads the undefined global undefined_name",
            #"./playbooks/slow.lua:3: sla must be a duration such as 90s"#,
            "./integrations/needs_key.lua: not used: api_key is not set",
            // A misspelt name, in serve's words: the one meant, else the integrations there are.
            "automator.yml: integrations.spaer names no integration: there is no file integrations/spaer.lua (did you mean spare?)",
            "automator.yml: integrations.virustotl names no integration: there is no file integrations/virustotl.lua "
                + "(the integrations are needs_key, spare)",
            "automator.yml:9: chat.slack: give signing_secret",
            "./playbooks/act.lua:5: runs the action needs_key.block, but its integration is not used: api_key is not set",
            "./playbooks/act.lua:6: runs the action nosuch.wipe, but no integration in ./integrations declares it",
            "./playbooks/approves.lua:3: approves in advance the action needs_key.block, but its integration is not used",
            "./playbooks/approves.lua:4: approves in advance the action nosuch.wipe, but no integration in ./integrations "
                + "declares it",
            // Serve would only log these, and say "no feed lists it".
            #"automator.yml: feed "gone": cannot read feeds/nope.txt"#,
            "feeds/bad.txt:2: feed bad: ",
        ] {
            #expect(lines.contains { $0.hasPrefix(expected) }, "\(expected)\n\(result.stdout)")
        }
        #expect(!result.stdout.contains("fine_test.lua"), "the test API is known in test files: \(result.stdout)")
        #expect(lines.filter { $0.hasPrefix("./playbooks/syntax.lua") }.count == 1, "\(result.stdout)")
        #expect(!result.stdout.contains("spare.lua"), "\(result.stdout)")
        // What each needs, in the words of `action run`'s refusal: the log and action list send people here.
        #expect(lines.contains { $0.hasPrefix("off, nothing sets them up (") }, "\(result.stdout)")
        #expect(lines.contains("  spare: token is not set: set integrations.spare.token in the configuration file"),
                "\(result.stdout)")
        #expect(result.stdout.contains("12 files checked: 19 problems"), "\(result.stdout)")
    }

    @Test("Every mistake of a playbook's declaration is reported in one run, each at its field's line, typos with the field meant")
    func playbookDeclarationMistakes() async throws {
        let folder = try TemporaryFolder()
        try folder.write("playbooks/p1.lua", """
            return playbook {
              name = "P1",
              match = { type = "suspicious_vpn_login" },
              on_sla_breech = function(inc) end,
              rn = function(inc) end,
            }
            """)
        let result = try await AutomatorProcess.run(["check", "--scripts", "."], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        let problems = result.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("./playbooks/p1.lua:") }
        #expect(problems.map { $0.prefix { $0 != "(" && $0 != "," } } == [
            // A field not written is at the declaration's line.
            "./playbooks/p1.lua:1: playbook: run must be function",
            "./playbooks/p1.lua:4: playbook: unknown field on_sla_breech ",
            "./playbooks/p1.lua:5: playbook: unknown field rn ",
        ], "\(result.stdout)")
        #expect(result.stdout.contains("unknown field on_sla_breech (did you mean on_sla_breach?): the fields are "),
                "\(result.stdout)")
        #expect(result.stdout.contains("unknown field rn (did you mean run?)"), "\(result.stdout)")
    }

    @Test("A file in hooks/ that is no hook the runtime runs is reported, with the hook meant; the hooks pass")
    func unknownHook() async throws {
        let folder = try TemporaryFolder()
        try folder.write("hooks/incident_close.lua", "local inc = ...\ninc:note(inc.id)\n")
        try folder.write("hooks/incident_closed.lua", "local inc = ...\ninc:note(inc.resolution or \"none\")\n")
        try folder.write("hooks/sla_breach.lua", "local inc = ...\ninc:note(inc.id)\n")
        let result = try await AutomatorProcess.run(["check", "--scripts", "."], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("./hooks/incident_close.lua: no hook the runtime runs (did you mean "
            + "hooks/incident_closed.lua?): the hooks are hooks/sla_breach.lua and hooks/incident_closed.lua"), "\(result.stdout)")
        #expect(!result.stdout.contains("./hooks/incident_closed.lua") && !result.stdout.contains("./hooks/sla_breach.lua"),
                "\(result.stdout)")
    }

    @Test("An action's ttl that is not a duration is reported at its line, as a playbook's sla is")
    func actionTTL() async throws {
        let folder = try TemporaryFolder()
        try folder.write("integrations/fw.lua", """
            return integration {
              name = "Firewall",
              actions = {
                unblock_ip = { risk = "low", run = function() end },
                block_ip = {
                  risk = "high", undo = "unblock_ip",
                  ttl = "24 h",
                  run = function() end,
                },
              },
            }
            """)
        try folder.write("automator.yml", "integrations:\n  fw:\n    enabled: true\n")
        let result = try await AutomatorProcess.run(["check", "--scripts", ".", "--config", "automator.yml"], in: folder.url)
        #expect(result.status == 1)
        let problem = try #require(result.stdout.split(separator: "\n").first { $0.contains("fw.lua") }, "\(result.stdout)")
        #expect(problem.hasPrefix("./integrations/fw.lua:7: integration: "), "\(problem)")
        #expect(problem.hasSuffix(#"integration: actions.block_ip.ttl must be a duration such as 90s, 15m, 4h, 2d or 1w "#
            + #"(at most 100 years), got "24 h""#), "\(problem)")
    }

    @Test("check --config refuses a secret too short to blank out of answers, naming its key")
    func shortSecret() async throws {
        let folder = try TemporaryFolder()
        try folder.write("integrations/fw.lua", """
            return integration {
              name = "Firewall", config = { api_key = { secret = true, required = true } },
              reputation = { ip = function(ip, config) return { score = "unknown" } end },
            }
            """)
        try folder.write("automator.yml", "integrations:\n  fw:\n    api_key: k\n")
        let result = try await AutomatorProcess.run(["check", "--scripts", ".", "--config", "automator.yml"], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("./integrations/fw.lua: not used: integrations.fw.api_key is a secret of 1 character: too short "
            + "to blank out of the service's answers without mangling them (the fewest is 6)"), "\(result.stdout)")
    }

    @Test("A section given twice in the configuration (one appended below) is named at its line, without the whole file")
    func sectionTwice() async throws {
        let folder = try TemporaryFolder()
        try folder.write("playbooks/empty.lua", "return playbook { name = \"Empty\", match = { type = \"x\" }, run = function() end }\n")
        try folder.write("automator.yml", """
            # the team's settings, which a duplicated key's error quoted in full
            integrations:
              abuseipdb: { enabled: false }
            integrations:
              virustotal: { enabled: false }
            """)
        let result = try await AutomatorProcess.run(["check", "--scripts", ".", "--config", "automator.yml"], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.hasPrefix("automator.yml:2: not valid YAML: integrations is given twice in one mapping, first "
            + "here: YAML would keep one of the two, so put their entries under one integrations\n"), "\(result.stdout)")
        #expect(!result.stdout.contains("the team's settings"), "\(result.stdout)")
    }

    @Test("An integration's declaration is checked with or without --config: every mistake at its line, typos too")
    func integrationDeclarations() async throws {
        let folder = try TemporaryFolder()
        try folder.write("integrations/oops.lua", """
            return integration {
              name = "Oops",
              descripton = "misspelt",
              config = {
                token = { secret = true, requird = true },
              },
              reputation = {
                ipv4 = function(ip) return { score = "unknown" } end,
              },
              actions = {
                block = {
                  risk = "extreme",
                  rn = function(params) end,
                },
              },
            }
            """)
        try folder.write("automator.yml", "integrations:\n  oops:\n    token: x\n")
        for configuration in [[], ["--config", "automator.yml"]] {
            let result = try await AutomatorProcess.run(["check", "--scripts", "."] + configuration, in: folder.url)
            #expect(result.status == 1, "\(configuration): \(result.stdout)")
            for expected in [
                "./integrations/oops.lua:3: integration: unknown field descripton: the fields are actions, config, fetch, "
                    + "name, rate, reliability, reputation",
                "./integrations/oops.lua:5: integration: config.token: unknown field requird: the fields are default, "
                    + "env, required, secret",
                "./integrations/oops.lua:8: integration: reputation.ipv4: unknown kind: the kinds are domain, email, file, "
                    + "ip, url",
                "./integrations/oops.lua:11: integration: actions.block.run must be a function(params, context), got nil",
                #"./integrations/oops.lua:12: integration: actions.block.risk must be low, medium, high or critical, got "extreme""#,
                "./integrations/oops.lua:13: integration: actions.block: unknown field rn: the fields are description, "
                    + "on_closed, params, risk, run, ttl, undo",
            ] {
                #expect(result.stdout.contains(expected + "\n"), "\(configuration): \(expected)\n\(result.stdout)")
            }
            #expect(!result.stdout.contains("[host]") && !result.stdout.contains("traceback"), "\(result.stdout)")
            #expect(result.stdout.contains("1 file checked: 6 problems"), "\(configuration): \(result.stdout)")
        }
    }

    @Test("A field not written is at its action's line, not at the next action's; a bad value is quoted, as a playbook's")
    func integrationFieldLines() async throws {
        let folder = try TemporaryFolder()
        try folder.write("integrations/fw.lua", """
            return integration {
              name = "Firewall",
              rate = { per_minute = 0 },
              actions = {
                a1 = { run = function(params) end },
                a3 = { risk = "low" },
                a4 = {
                  run = function(params) end,
                  undo = 4,
                  params = { ip = { type = "address" } },
                },
              },
            }
            """)
        let result = try await AutomatorProcess.run(["check", "--scripts", "."], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)")
        for expected in [
            "./integrations/fw.lua:3: integration: rate.per_minute must be a whole number of requests above 0, got 0",
            "./integrations/fw.lua:6: integration: actions.a3.run must be a function(params, context), got nil",
            "./integrations/fw.lua:9: integration: actions.a4.undo must name another action of this integration, got 4",
            #"./integrations/fw.lua:10: integration: actions.a4.params.ip: type must be string, integer, number, "#
                + #"boolean, ip, cidr, account or host, got "address""#,
        ] {
            #expect(result.stdout.contains(expected + "\n"), "\(expected)\n\(result.stdout)")
        }
    }

    @Test("A broken copy of a shipped playbook: the action its local constant names is checked where respond.act runs it")
    func shippedPlaybookConstant() async throws {
        let folder = try TemporaryFolder()
        let original = try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("playbooks/brute_force.lua"),
                                  encoding: .utf8)
        let broken = original.replacingOccurrences(of: #"local BLOCK_ADDRESS = "checkpoint.block_ip""#,
                                                   with: #"local BLOCK_ADDRESS = "checkpoint.block_ips""#)
        #expect(broken != original)
        let lines = broken.components(separatedBy: "\n")
        let approval = try #require(lines.firstIndex { $0.contains("approvals = { BLOCK_ADDRESS }") }) + 1
        let act = try #require(lines.firstIndex { $0.contains("respond.act(BLOCK_ADDRESS") }) + 1
        try folder.write("playbooks/brute_force.lua", broken)
        // Beside it, what it needs, and a playbook whose constant is right.
        for file in ["lib/respond.lua", "lib/addresses.lua", "lib/reputation.lua", "integrations/checkpoint.lua",
                     "playbooks/phishing.lua"] {
            try folder.write(file, try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent(file), encoding: .utf8))
        }
        // The integration is not set up: respond.act asks first, so only the declaration matters.
        try folder.write("automator.yml", "actions:\n  approval: { risk: high, channel: \"#soc\" }\n")
        let declares = "./integrations/checkpoint.lua does not declare it (did you mean checkpoint.block_ip?)"
        let problems = ["./playbooks/brute_force.lua:\(approval): approves in advance the action checkpoint.block_ips, but "
                            + declares,
                        "./playbooks/brute_force.lua:\(act): runs the action checkpoint.block_ips, but " + declares]
        for configuration in [[], ["--config", "automator.yml"]] {
            let result = try await AutomatorProcess.run(["check", "--scripts", "."] + configuration, in: folder.url)
            #expect(result.status == 1, "\(result.stdout)")
            let found = result.stdout.split(separator: "\n").filter { $0.hasPrefix("./") }.map(String.init)
            #expect(found == problems, "\(configuration): \(result.stdout)")
        }
    }

    @Test("actions.plan, actions.available and respond.act are checked too; a name check cannot resolve is skipped")
    func actionNamesThroughConstants() async throws {
        let folder = try TemporaryFolder()
        try folder.write("lib/respond.lua", try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("lib/respond.lua"),
                                                       encoding: .utf8))
        try folder.write("integrations/fw.lua", """
            return integration {
              name = "Firewall",
              actions = { block_ip = { params = { ip = "ip" }, run = function(params) end } },
            }
            """)
        try folder.write("playbooks/block.lua", """
            local respond = require("lib.respond")
            local BLOCK <const> = "fw.blok_ip"  -- misspelt
            local ASKED = 'fw.block_ip'
            local EITHER = "fw.one"
            local REASSIGNED = "fw.two"
            return playbook {
              name = "Block",
              run = function(inc)
                if inc.fields.other then EITHER = "fw.three" end
                local REASSIGNED = "fw.four"
                actions.plan(BLOCK, { ip = inc.fields.ip })
                if actions.available(ASKED) then respond.act(ASKED, { ip = inc.fields.ip }, inc) end
                actions.available("fw.isolate")
                actions.run(EITHER, {}); actions.run(REASSIGNED, {}); actions.run(inc.fields.action, {})
                -- actions.run("fw.old_name", {})
                respond.act("fw.blockip", { ip = inc.fields.ip }, inc)
              end,
            }
            """)
        let result = try await AutomatorProcess.run(["check", "--scripts", "."], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)")
        let expected: [String] = [
            "./playbooks/block.lua:11: plans the action fw.blok_ip, but ./integrations/fw.lua does not declare it "
                + "(did you mean fw.block_ip?)",
            "./playbooks/block.lua:13: asks after the action fw.isolate, but ./integrations/fw.lua does not declare it",
            "./playbooks/block.lua:16: runs the action fw.blockip, but ./integrations/fw.lua does not declare it "
                + "(did you mean fw.block_ip?)",
        ]
        let problems = result.stdout.split(separator: "\n").filter { $0.hasPrefix("./playbooks/") }.map(String.init)
        #expect(problems == expected, "\(result.stdout)")
    }

    @Test("A playbook's approvals are checked through local constants too; a name check cannot resolve is skipped")
    func standingApprovalsThroughConstants() async throws {
        let folder = try TemporaryFolder()
        try folder.write("integrations/fw.lua", """
            return integration {
              name = "Firewall",
              actions = { block_ip = { params = { ip = "ip" }, run = function(params) end },
                          isolate = { params = { host = "host" }, run = function(params) end } },
            }
            """)
        try folder.write("playbooks/block.lua", """
            local BLOCK <const> = "fw.blok_ip"
            local ISOLATE = "fw.isolate"
            local NAMES = { wipe = "fw.wipe" }
            local CHANGED = "fw.one"
            CHANGED = "fw.two"
            return playbook {
              name = "Block",
              approvals = { ISOLATE, NAMES.wipe, CHANGED, "fw.block_ip",
                            BLOCK,  -- "fw.commented" and fw.unblock_ip are in a comment
              },
              run = function(inc) end,
            }
            """)
        let result = try await AutomatorProcess.run(["check", "--scripts", "."], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)")
        let problems = result.stdout.split(separator: "\n").filter { $0.hasPrefix("./playbooks/") }.map(String.init)
        #expect(problems == [
            "./playbooks/block.lua:9: approves in advance the action fw.blok_ip, but ./integrations/fw.lua does not "
                + "declare it (did you mean fw.block_ip?)",
        ], "\(result.stdout)")
    }

    @Test("Without --config, actions.run is checked against the actions the folder's integrations declare")
    func actionNamesWithoutConfiguration() async throws {
        let folder = try TemporaryFolder()
        try folder.write("integrations/edr.lua", """
            return integration {
              name = "EDR",
              config = { token = { env = "EDR_TOKEN", required = true } },
              actions = { isolate = { params = { host = "host" }, run = function(params) end } },
            }
            """)
        try folder.write("integrations/broken.lua", "return integration { name = 1, actions = {} }\n")
        try folder.write("playbooks/contain.lua", """
            return playbook {
              name = "Contain",
              run = function(inc)
                actions.run("edr.isolate", { host = "pc-7" }, { incident = inc })
                actions.run("edr.isolat", { host = "pc-7" }, { incident = inc })
                actions.run("fw.block_ip", { ip = "203.0.113.7" }, { incident = inc })
                actions.run("broken.block", {}, { incident = inc })
              end,
            }
            """)
        let result = try await AutomatorProcess.run(["check", "--scripts", "."], in: folder.url)
        #expect(result.status == 1, "\(result.stdout)")
        let problems = result.stdout.split(separator: "\n").filter { $0.hasPrefix("./playbooks/") }
        #expect(problems == [
            "./playbooks/contain.lua:5: runs the action edr.isolat, but ./integrations/edr.lua does not declare it "
                + "(did you mean edr.isolate?)",
            "./playbooks/contain.lua:6: runs the action fw.block_ip, but no integration in ./integrations declares it",
            "./playbooks/contain.lua:7: runs the action broken.block, but ./integrations/broken.lua does not load: see its problems",
        ], "the settings it lacks do not matter: \(result.stdout)")
    }

    @Test("A configuration file's every bad value is reported at its own line, by check and by serve")
    func configurationProblems() async throws {
        let folder = try TemporaryFolder()
        try folder.write("playbooks/fine.lua", "return playbook { name = \"Fine\", run = function(inc) end }\n")
        try folder.write("automator.yml", """
            actions:
              approval:
                risk: extreme
                timeout: soon
              protected:
                networks: [10.0.0.0/8, 999.0.0.0/8]
            chat:
              roles:
                analyst: [alice, "@bob"]
              slack:
                bot_token: xoxb-1
              report:
                channel: "#soc"
                daily_at: "25:00"
                window: forever
              matrix:
                homeserver: 127.0.0.1:18448
                access_token: x
            cache:
              malicious: soon
            """)
        let expected = [
            "automator.yml:3: actions.approval.risk: low, medium, high, critical or none expected",
            "automator.yml:4: actions.approval.timeout: ",
            "automator.yml:6: actions.protected.networks[1]: an address or network such as 10.0.0.0/8 expected",
            // A mapping's problems at its key's line, not at its first value's.
            "automator.yml:9: chat.roles.analyst[1]: a Matrix user id is @name:server, as in @bob:example.org",
            "automator.yml:10: chat.slack: give signing_secret",
            "automator.yml:14: chat.report.daily_at: a time of day expected, such as \"08:00\" (in tz, UTC by default)",
            "automator.yml:15: chat.report.window: ",
            "automator.yml:16: chat.matrix.user: missing",
            "automator.yml:17: chat.matrix.homeserver: a URL with its scheme expected: https://127.0.0.1:18448",
            "automator.yml:20: cache.malicious: ",
        ]
        let checked = try await AutomatorProcess.run(["check", "--scripts", ".", "--config", "automator.yml"], in: folder.url)
        #expect(checked.status == 1)
        let lines = checked.stdout.components(separatedBy: "\n")
        #expect(zip(lines, expected).allSatisfy { $0.hasPrefix($1) }, "in the file's order:\n\(checked.stdout)")
        #expect(checked.stdout.contains("1 file checked: \(expected.count) problems"), "\(checked.stdout)")

        // serve refuses to start, naming them all.
        let served = try await AutomatorProcess.run(["serve", "--scripts", ".", "--config", "automator.yml", "--data", "data"],
                                                    in: folder.url)
        #expect(served.status == 1)
        let errors = served.stderr.components(separatedBy: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == expected.count && zip(errors, expected).allSatisfy { $0.hasPrefix("error: " + $1) },
                "\(served.stderr)")
    }

    @Test("check --config says, without failing, that approvals wait for an operator when Slack is configured and no one is an approver")
    func noApprover() async throws {
        let folder = try TemporaryFolder()
        try folder.write("playbooks/fine.lua", "return playbook { name = \"Fine\", run = function(inc) end }\n")
        let slack = """
            chat:
              slack: { signing_secret: 0123456789abcdef0123456789abcdef, bot_token: xoxb-1 }
              roles:
                analyst: [alice]

            """
        try folder.write("automator.yml", slack)
        let checked = try await AutomatorProcess.run(["check", "--scripts", ".", "--config", "automator.yml"], in: folder.url)
        #expect(checked.status == 0, "\(checked.stdout)")
        #expect(checked.stdout.contains("automator.yml: chat.roles.approver names no one, so no one in Slack may approve: "
            + "approvals wait for an operator"), "\(checked.stdout)")

        try folder.write("automator.yml", slack + "    approver: [alice]\n")
        let named = try await AutomatorProcess.run(["check", "--scripts", ".", "--config", "automator.yml"], in: folder.url)
        #expect(named.status == 0 && !named.stdout.contains("approver"), "\(named.stdout)")
    }
}
