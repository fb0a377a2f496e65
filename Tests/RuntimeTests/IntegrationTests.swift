import AutomatorRuntime
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Integrations: the shipped VirusTotal and AbuseIPDB against loopback copies of their APIs",
       .timeLimit(.minutes(1)))
struct IntegrationTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let key = "vt-secret-key-0123456789"
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/integrations").path
    static let fastRetries = RetryPolicy(attempts: 3, firstDelay: .milliseconds(20), longestWait: .seconds(2))

    /// Requests the loopback APIs received, by path.
    final class Log: Sendable {
        let paths = Mutex<[String]>([])
        func count(_ path: String) -> Int { paths.withLock { $0.filter { $0 == path }.count } }
    }

    static func stats(malicious: Int, suspicious: Int = 0, harmless: Int = 60, undetected: Int = 20) -> String {
        #"{"data": {"id": "x", "attributes": {"last_analysis_stats": {"malicious": \#(malicious), "suspicious": \#(suspicious), "harmless": \#(harmless), "undetected": \#(undetected), "timeout": 0}}}}"#
    }

    /// VirusTotal v3 and AbuseIPDB v2 as their documentation describes them: paths, auth headers,
    /// answers and errors.
    static func servers(_ log: Log) async throws -> LoopbackServer {
        let router = Router()
        let rateLimited = Mutex(0)
        @Sendable func json(_ text: String, _ status: HTTPResponse.Status = .ok, _ headers: HTTPFields = [:]) -> Response {
            var fields = headers
            fields[.contentType] = "application/json"
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        @Sendable func vtError(_ code: String) -> String { #"{"error": {"code": "\#(code)", "message": "..."}}"# }
        router.get("/api/v3/:collection/:id") { request, context -> Response in
            let id = context.parameters.get("id") ?? ""
            log.paths.withLock { $0.append(request.uri.path) }
            if let title = request.headers[.init("x-title")!] { log.paths.withLock { $0.append("x-title: " + title) } }
            guard request.headers[.init("x-apikey")!] == key else { return json(vtError("WrongCredentialsError"), .unauthorized) }
            switch id {
            case "198.51.100.7", "evil.example", "44d88612fea8a8f36de82e1278abb02f": return json(stats(malicious: 14))
            case "aHR0cDovL2V2aWwuZXhhbXBsZS9wYXk": return json(stats(malicious: 1, suspicious: 2))  // http://evil.example/pay
            case "192.0.2.10": return json(stats(malicious: 0, harmless: 70))
            case "203.0.113.66":
                let first = rateLimited.withLock { count in count += 1; return count == 1 }
                return first ? json(vtError("QuotaExceededError"), .tooManyRequests, [.retryAfter: "1"]) : json(stats(malicious: 5))
            case "203.0.113.50": return json(#"{"error": {"code": "TransientError"}}"#, .internalServerError)
            case "203.0.113.99": return json(#"{"data": {"attributes": "#)
            case "203.0.113.77": return json(#"{"data": {"attributes": {"last_analysis_stats": {"malicious": 0}}}, "echo": "\#(key)"}"#)
            default: return json(vtError("NotFoundError"), .notFound)
            }
        }
        router.get("/slow") { _, _ -> Response in
            log.paths.withLock { $0.append("/slow") }
            try await Task.sleep(for: .seconds(2))
            return json("{}")
        }
        router.get("/api/v2/check") { request, _ -> Response in
            let ip = request.uri.queryParameters.get("ipAddress") ?? ""
            log.paths.withLock { $0.append("abuseipdb " + ip) }
            guard request.headers[.init("Key")!] == "abuse-key", request.headers[.accept] == "application/json" else {
                return json(#"{"errors": [{"detail": "Authentication failed.", "status": 401}]}"#, .unauthorized)
            }
            guard request.uri.queryParameters.get("maxAgeInDays") == "90" else { return json("{}", .unprocessableContent) }
            let score = ip == "198.51.100.7" ? 100 : 0
            return json(#"{"data": {"ipAddress": "\#(ip)", "isWhitelisted": false, "abuseConfidenceScore": \#(score), "totalReports": \#(score == 0 ? 0 : 54), "countryCode": "NL"}}"#)
        }
        return try await LoopbackServer(router)
    }

    /// A folder holding one integration, `NAME.lua`, for what the shipped ones do not show.
    static func folder(with name: String, _ lua: String) throws -> ScratchFolder {
        let folder = try ScratchFolder()
        try lua.write(toFile: folder.path + "/\(name).lua", atomically: true, encoding: .utf8)
        return folder
    }

    /// The shipped integrations pointed at `server`, their quotas raised for the tests that do not
    /// test them.
    static func integrations(_ server: LoopbackServer, vtKey: String = key) async -> Integrations {
        var virusTotal = IntelConfiguration.IntegrationSettings(values: ["base_url": server.url + "/api/v3", "api_key": vtKey])
        (virusTotal.perMinute, virusTotal.perDay) = (10_000, 10_000)
        let abuse = IntelConfiguration.IntegrationSettings(values: ["base_url": server.url + "/api/v2", "api_key": "abuse-key"])
        return await Integrations(folder: scripts, settings: ["virustotal": virusTotal, "abuseipdb": abuse],
                                  environment: [:], retry: fastRetries, logger: logger)
    }

    @Test("Each kind reaches VirusTotal's documented path with x-apikey; the engines' counts become the verdict")
    func virusTotal() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.integrations(server)
        // The other shipped integrations have no settings here: they are left out, and say why.
        #expect(!integrations.problems.contains { $0.path.contains("virustotal") || $0.path.contains("abuseipdb") },
                "\(integrations.problems)")
        let ip = await integrations.reputation(kind: "ip", value: "198.51.100.7")
        #expect(ip.map(\.source) == ["AbuseIPDB", "VirusTotal"])
        let vt = try #require(ip.last)
        #expect(vt.score == .malicious && vt.reason == "14/94 engines" && vt.reliability == .b)
        #expect(ip.first?.score == .malicious && ip.first?.reason == "confidence 100%, 54 reports")
        #expect(await integrations.reputation(kind: "domain", value: "evil.example").first?.score == .malicious)
        let url = await integrations.reputation(kind: "url", value: "http://evil.example/pay")
        #expect(url.first?.score == .suspicious && url.first?.reason == "1/83 engines, 2 suspicious", "\(url)")
        #expect(await integrations.reputation(kind: "file", value: "44d88612fea8a8f36de82e1278abb02f").first?.score == .malicious)
        #expect(await integrations.reputation(kind: "ip", value: "192.0.2.10").last?.score == .benign)
        let unknown = await integrations.reputation(kind: "ip", value: "203.0.113.9")
        #expect(unknown.last?.score == .unknown && unknown.last?.reason == "not in VirusTotal", "a 404 is unknown")
        #expect(unknown.first?.reason == "no reports")
        #expect(log.paths.withLock { $0 }.contains("/api/v3/urls/aHR0cDovL2V2aWwuZXhhbXBsZS9wYXk"))
        #expect(await integrations.reputation(kind: "email", value: "a@b.example").isEmpty, "no integration handles e-mail")
        integrations.shutdown()
    }

    @Test("A 429 is tried again after its Retry-After; a 5xx after backoff; 401, malformed JSON and timeouts fail clearly")
    func failures() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.integrations(server)
        let started = ContinuousClock.now
        let retried = await integrations.reputation(kind: "ip", value: "203.0.113.66").last
        #expect(retried?.score == .malicious, "\(String(describing: retried))")
        #expect(ContinuousClock.now - started >= .seconds(1), "Retry-After: 1 was waited")
        #expect(log.count("/api/v3/ip_addresses/203.0.113.66") == 2)

        let malformed = await integrations.reputation(kind: "ip", value: "203.0.113.99").last
        #expect(malformed?.reason == "failed: VirusTotal answered 200 without data.attributes.last_analysis_stats")

        // Last: a 500 pauses the integration (IntegrationPauseTests).
        let failing = await integrations.reputation(kind: "ip", value: "203.0.113.50").last
        #expect(failing?.failed == true && failing?.score == .unknown)
        #expect(failing?.reason == "failed: VirusTotal answered 500", "\(String(describing: failing))")
        #expect(log.count("/api/v3/ip_addresses/203.0.113.50") == 3, "three attempts")

        let refused = await Self.integrations(server, vtKey: "wrong-key").reputation(kind: "ip", value: "198.51.100.7").last
        #expect(refused?.reason == "failed: VirusTotal refused the API key (401): check api_key", "\(String(describing: refused))")
        integrations.shutdown()
    }

    @Test("A reputation function that returns no table, or a bad score, is that integration's error at its file:line")
    func badAnswers() async throws {
        let folder = try Self.folder(with: "sloppy", """
            return integration {
              name = "Sloppy",
              reputation = {
                ip = function(ip) if ip == "192.0.2.1" then return nil end return "malicious" end,
                domain = function() return { score = "evil" } end,
              },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:], logger: Self.logger)
        let nothing = try #require(await integrations.reputation(kind: "ip", value: "192.0.2.1").first)
        #expect(nothing.source == "Sloppy" && nothing.failed && nothing.score == .unknown)
        #expect(nothing.reason == "failed: integrations/sloppy.lua:4: reputation.ip returned nil: return a table, "
            + #"as in { score = "malicious", reason = "..." }"#, "\(nothing.reason)")
        let text = try #require(await integrations.reputation(kind: "ip", value: "192.0.2.2").first)
        #expect(text.reason.hasPrefix("failed: integrations/sloppy.lua:4: reputation.ip returned a string: "), "\(text.reason)")
        let score = try #require(await integrations.reputation(kind: "domain", value: "evil.example").first)
        #expect(score.reason == #"failed: integrations/sloppy.lua:5: reputation.domain returned score = "evil": "#
            + "score must be unknown, benign, suspicious or malicious (or 0 to 3)", "\(score.reason)")
        let verdict = Verdict([nothing])
        #expect(verdict.summary.contains("could not answer: Sloppy failed: integrations/sloppy.lua:4"), "\(verdict.summary)")
        integrations.shutdown()
    }

    @Test("An integration over its memory cap fails that lookup with its own cap's words, not --memory's")
    func memoryCap() async throws {
        let folder = try Self.folder(with: "hoard", """
            return integration {
              name = "Hoard",
              reputation = {
                ip = function(ip) local kept = {} for i = 1, 1e8 do kept[i] = ip .. i end end,
              },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:], logger: Self.logger)
        let answer = try #require(await integrations.reputation(kind: "ip", value: "192.0.2.1").first)
        #expect(answer.failed && answer.reason.contains("memory limit of 64 MiB exceeded (this run's cap: an integration's, "
            + "fixed: keep less of the service's answer)"), "\(answer.reason)")
        integrations.shutdown()
    }

    @Test("Internal addresses and names are not sent to a third party; the documentation ranges are")
    func internalIndicators() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let folder = try Self.folder(with: "slow", """
            local function ask(value, config)
              http.get(config.base_url .. "/ip_addresses/" .. value, { headers = { ["x-apikey"] = config.api_key } })
              return { score = "benign", reason = "asked" }
            end
            return integration {
              name = "Slow", config = { base_url = "\(server.url)/api/v3", api_key = { secret = true } },
              reputation = { ip = ask, url = ask, domain = ask, email = ask },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: ["slow": .init(values: ["api_key": Self.key])],
                                              environment: [:], logger: Self.logger)
        let kept: [(kind: String, value: String, why: String)] = [
            ("ip", "10.1.2.3", "private address (10.0.0.0/8)"),
            ("ip", "172.31.0.9", "private address (172.16.0.0/12)"),
            ("ip", "192.168.1.1", "private address (192.168.0.0/16)"),
            ("ip", "127.0.0.1", "loopback address (127.0.0.0/8)"),
            ("ip", "169.254.1.1", "link-local address (169.254.0.0/16)"),
            ("ip", "100.64.3.4", "carrier-grade NAT address (100.64.0.0/10)"),
            ("ip", "::1", "loopback address (::1/128)"),
            ("ip", "fd12::1", "unique local address (fc00::/7)"),
            ("ip", "fe80::1", "link-local address (fe80::/10)"),
            ("ip", "::ffff:10.0.0.1", "private address (10.0.0.0/8)"),
            ("ip", "0.0.0.0", "reserved address (0.0.0.0/8)"),
            ("ip", "255.255.255.255", "broadcast address (255.255.255.255/32)"),
            ("ip", "239.1.2.3", "multicast address (224.0.0.0/4)"),
            ("ip", "::", "unspecified address (::/128)"),
            ("ip", "ff02::1", "multicast address (ff00::/8)"),
            ("url", "http://10.1.2.3/admin", "private address (10.0.0.0/8)"),
            ("url", "https://dc01.corp.local/x", "internal name (.local)"),
            ("url", "http://[fd00::5]:8080/", "unique local address (fc00::/7)"),
            ("domain", "intranet.corp.internal", "internal name (.internal)"),
            ("email", "alice@nas.lan", "internal name (.lan)"),
        ]
        for (kind, value, why) in kept {
            let answer = try #require(await integrations.reputation(kind: kind, value: value).first, "\(value)")
            #expect(answer.score == .unknown && answer.failed, "\(value)")
            #expect(answer.reason == "\(why), not looked up", "\(answer.reason)")
        }
        #expect(log.paths.withLock { $0 }.isEmpty, "\(log.paths.withLock { $0 })")
        for address in ["192.0.2.1", "198.51.100.1", "203.0.113.1", "8.8.8.8", "2001:db8::1"] {
            #expect(await integrations.reputation(kind: "ip", value: address).first?.reason == "asked", "\(address)")
        }
        integrations.shutdown()

        // One on the organisation's network (an on-premises MISP) is asked, once the configuration says so.
        var onPremises = IntelConfiguration.IntegrationSettings(values: ["api_key": Self.key])
        onPremises.isInternal = true
        let onNetwork = await Integrations(folder: folder.path, settings: ["slow": onPremises], environment: [:],
                                           logger: Self.logger)
        #expect(await onNetwork.reputation(kind: "ip", value: "10.1.2.3").first?.reason == "asked")
        onNetwork.shutdown()
    }

    @Test("The secret never reaches the script: it sees a placeholder, only which is filled in, and an echo of the key comes back blanked")
    func secrets() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let folder = try Self.folder(with: "leaky", """
            return integration {
              name = "Leaky", config = { base_url = "\(server.url)/api/v3", api_key = { secret = true, required = true } },
              reputation = { ip = function(ip, config)
                -- Text from elsewhere (an incident's title) that looks like a placeholder is sent as written.
                local title = "Suspicious login for {{secret:api_key}}"
                local response = http.get(config.base_url .. "/ip_addresses/" .. ip,
                                          { headers = { ["x-apikey"] = config.api_key, ["x-title"] = title } })
                log.info("key " .. config.api_key)
                return { score = "unknown", reason = config.api_key .. " " .. response.body }
              end },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: ["leaky": .init(values: ["api_key": Self.key])],
                                              environment: [:], retry: .none, logger: Self.logger)
        let answer = try #require(await integrations.reputation(kind: "ip", value: "203.0.113.77").first)
        #expect(!answer.reason.contains(Self.key), "\(answer.reason)")
        #expect(answer.reason.firstMatch(of: #/^\{\{secret:api_key:[0-9a-f]{16}\}\} /#) != nil, "\(answer.reason)")
        #expect(answer.reason.contains(#""echo": "[secret]""#), "\(answer.reason)")
        #expect(log.paths.withLock { $0 }.contains("x-title: Suspicious login for {{secret:api_key}}"), "\(log.paths.withLock { $0 })")
        integrations.shutdown()

        let missing = await Integrations(folder: folder.path, settings: [:], environment: [:], logger: Self.logger)
        #expect(missing.problems.first?.message.contains("api_key is not set") == true, "\(missing.problems)")
    }

    @Test("A secret too short to blank out of answers is refused when its integration loads, naming its key and where it came from")
    func shortSecret() async throws {
        let folder = try Self.folder(with: "leaky", """
            return integration {
              name = "Leaky", config = { api_key = { secret = true, env = "LEAKY_KEY", required = true } },
              reputation = { ip = function(ip, config) return { score = "unknown" } end },
            }
            """)
        func problems(_ settings: [String: String], environment: [String: String] = [:]) async -> [String] {
            let integrations = await Integrations(folder: folder.path, settings: ["leaky": .init(values: settings)],
                                                  environment: environment, logger: Self.logger)
            defer { integrations.shutdown() }
            return integrations.problems.map { "\($0.path): \($0.message)" }
        }
        #expect(await problems(["api_key": "1"]) == ["integrations/leaky.lua: integrations.leaky.api_key is a secret of "
            + "1 character: too short to blank out of the service's answers without mangling them (the fewest is 6); "
            + "set the whole key the service gave"])
        #expect(await problems([:], environment: ["LEAKY_KEY": "abc12"]).first?
            .contains("integrations.leaky.api_key, set by LEAKY_KEY, is a secret of 5 characters: ") == true)
        #expect(await problems([:], environment: ["LEAKY_KEY": "abc123"]).isEmpty, "a 6-character password is real")
    }

    @Test("Integrations nobody set up share one line of the log; one the configuration names (a misspelt setting too), or that is broken, warns")
    func notSetUp() async throws {
        let folder = try Self.folder(with: "unset", """
            return integration {
              name = "Unset", config = { url = { env = "UNSET_URL", required = true },
                                         api_key = { secret = true, env = "UNSET_KEY", required = true },
                                         region = { required = true } },
              reputation = { ip = function() return { score = "unknown" } end },
            }
            """)
        let other = #"return integration { name = "Other", config = { token = { required = true } }, "#
            + #"reputation = { ip = function() return { score = "unknown" } end } }"#
        for (file, source) in [("other.lua", other), ("misspelt.lua", other), ("broken.lua", "return integration {")] {
            try source.write(toFile: folder.path + "/" + file, atomically: true, encoding: .utf8)
        }
        let records = CapturedLog.Records()
        let logger = Logger(label: "test") { _ in CapturedLog(records: records) }
        let integrations = await Integrations(folder: folder.path,
                                              settings: ["other": .init(), "misspelt": .init(values: ["tokn": "x"])],
                                              environment: [:], logger: logger)
        let lines = records.lines.withLock { $0 }.map { ($0.level, $0.message) }
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.contains { $0 == .warning && $1 == "integration integrations/misspelt.lua is not used: "
                + "integrations.misspelt.tokn is not one of its settings: they are token" })
        #expect(lines.contains { $0 == .warning && $1.hasPrefix("integration integrations/broken.lua is not used: ") })
        #expect(lines.contains { $0 == .warning && $1 == "integration integrations/other.lua is not used: token is not set: "
                + "set integrations.other.token in the configuration file" })
        #expect(lines.contains { $0 == .info && $1.hasPrefix("integrations not set up, not used: unset (") })
        // Every setting missing, named in the same order each time.
        #expect(integrations.problems.first { $0.path == "integrations/unset.lua" }?.message
            == "api_key, region and url are not set: set them under integrations.unset in the configuration file, "
            + "or in the environment as UNSET_KEY, UNSET_URL")
    }

    @Test("Failed lookups are one line of the log per cause, without a traceback, until one succeeds; then one line says so")
    func failuresLoggedOncePerCause() async throws {
        let folder = try Self.folder(with: "acme", """
            return integration {
              name = "Acme",
              reputation = { ip = function(ip)
                if ip:find("^203%.0%.113%.") then error("Acme refused the API key (401): check api_key", 0) end
                if ip:find("^198%.51%.100%.") then error("Acme has no answer for " .. ip, 0) end
                if ip:find("^192%.0%.2%.") then error("Acme failed: cause " .. ip:match("%d+$"), 0) end
                return { score = "benign", reason = "answered" }
              end },
            }
            """)
        let records = CapturedLog.Records()
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:],
                                              logger: Logger(label: "test") { _ in CapturedLog(records: records) })
        defer { integrations.shutdown() }
        func lookUp(_ values: [String]) async {
            for value in values { _ = await integrations.reputation(kind: "ip", value: value) }
        }
        func lines() -> [String] { records.lines.withLock { $0 }.map(\.message) }

        await lookUp((1...4).map { "203.0.113.\($0)" } + (1...3).map { "198.51.100.\($0)" })
        #expect(lines() == [
            "integration Acme: a lookup failed: Acme refused the API key (401): check api_key (logged once until "
                + "a lookup succeeds; the next ones with this error are counted)",
            "integration Acme: a lookup failed: Acme has no answer for 198.51.100.1 (logged once until a lookup "
                + "succeeds; the next ones with this error are counted)",
        ], "one line per cause, the indicator not making a cause of its own")
        #expect(!lines().joined().contains("traceback"))
        #expect(integrations.statuses.first?.lookupFailures?.failed == 7, "/healthz and /metrics show it")

        await lookUp(["8.8.8.8", "8.8.4.4"])
        #expect(lines().count == 3)
        #expect(lines().last?.hasPrefix("integration Acme: lookups succeed again, after 7 failed lookups since ") == true,
                "\(lines())")
        #expect(integrations.statuses.first?.lookupFailures == nil)

        await lookUp(["203.0.113.9"])
        #expect(lines().count == 4 && lines().last?.contains("refused the API key") == true,
                "a cause is logged again once a success came between")
        await lookUp(["8.8.8.8"])
        // Many causes: five lines, then one saying that no more are logged.
        await lookUp((1...9).map { "192.0.2.\($0)" })
        let causes = Array(lines().dropFirst(5))
        #expect(causes.count == LookupFailures.mostCauses + 1, "\(causes)")
        #expect(causes.last?.contains("no more are logged until one succeeds") == true)
    }

    @Test("Settings under a name no file has (a misspelt integration) are a problem, warned once, not dropped unsaid")
    func settingsWithoutFile() async throws {
        let folder = try Self.folder(with: "virustotal", """
            return integration { name = "VT", reputation = { ip = function() return { score = "unknown" } end } }
            """)
        let records = CapturedLog.Records()
        let logger = Logger(label: "test") { _ in CapturedLog(records: records) }
        var retired = IntelConfiguration.IntegrationSettings()
        retired.enabled = false
        let integrations = await Integrations(folder: folder.path,
                                              settings: ["virustotl": .init(values: ["api_key": "x"]),
                                                         "zzzzzz": .init(), "retired": retired],
                                              environment: [:], logger: logger)
        #expect(integrations.problems.map { "\($0.path): \($0.message)" } == [
            "integrations/virustotl.lua: integrations.virustotl names no integration: there is no file "
                + "integrations/virustotl.lua (did you mean virustotal?)",
            "integrations/zzzzzz.lua: integrations.zzzzzz names no integration: there is no file "
                + "integrations/zzzzzz.lua (the integrations are virustotal)",
        ])
        #expect(integrations.statuses.filter { $0.failure != nil }.map(\.key) == ["virustotl", "zzzzzz"],
                "/healthz and automator_integration_failing show it")
        let warnings = records.lines.withLock { $0 }.filter { $0.level == .warning }.map(\.message)
        #expect(warnings.first == "integration integrations/virustotl.lua is not used: integrations.virustotl names no "
                + "integration: there is no file integrations/virustotl.lua (did you mean virustotal?)", "\(warnings)")
        await integrations.refresh()
        #expect(records.lines.withLock { $0 }.filter { $0.level == .warning }.count == 2, "said once, not at each look")

        // With no integration at all, the folder itself is the likely mistake.
        let empty = await Integrations(folder: try ScratchFolder().path, settings: ["virustotal": .init()],
                                       environment: [:], logger: Self.logger)
        #expect(empty.problems.map(\.message) == ["integrations.virustotal names no integration: there is no file "
            + "integrations/virustotal.lua (the scripts folder has no integrations: is --scripts right?)"])
    }

    @Test("A lookup that times out is tried again, then fails with the timeout as its reason")
    func timeout() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let folder = try Self.folder(with: "sluggish", """
            return integration {
              name = "Sluggish", config = { base_url = "\(server.url)" },
              reputation = { ip = function(ip, config)
                http.get(config.base_url .. "/slow", { timeout = 0.2 })
                return { score = "benign", reason = "answered" }
              end },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:],
                                              retry: Self.fastRetries, logger: Self.logger)
        let answer = try #require(await integrations.reputation(kind: "ip", value: "192.0.2.1").first)
        #expect(answer.failed && answer.score == .unknown)
        #expect(answer.reason.hasPrefix("failed: "), "\(answer.reason)")
        #expect(answer.reason.contains("/slow: timed out after 0.2 s (attempt 3 of 3)"), "\(answer.reason)")
        #expect(!answer.reason.contains("HTTPClientError"), "\(answer.reason)")
        #expect(log.count("/slow") == 3, "three attempts")
        integrations.shutdown()
    }

    /// An integration with the quota `rate` (`per_second = 2`) whose lookups ask VirusTotal's path.
    static func slow(_ server: LoopbackServer, rate: String) throws -> ScratchFolder {
        try folder(with: "slow", """
            return integration {
              name = "Slow", config = { base_url = "\(server.url)/api/v3", api_key = { secret = true } },
              rate = { \(rate) },
              reputation = { ip = function(ip, config)
                http.get(config.base_url .. "/ip_addresses/" .. ip, { headers = { ["x-apikey"] = config.api_key } })
                return { score = "benign", reason = "asked" }
              end },
            }
            """)
    }

    @Test("Over its quota, lookups wait their turn and all complete")
    func quota() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let folder = try Self.slow(server, rate: "per_second = 2")
        let integrations = await Integrations(folder: folder.path, settings: ["slow": .init(values: ["api_key": Self.key])],
                                              environment: [:], logger: Self.logger)
        let started = ContinuousClock.now
        let answers = await withTaskGroup(of: Int.self) { group in
            for index in 0..<6 { group.addTask { await integrations.reputation(kind: "ip", value: "192.0.2.\(index)").count } }
            return await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - started
        #expect(answers == 6)
        #expect(elapsed >= .seconds(2), "6 lookups at 2 a second take 2 s at least: \(elapsed)")
        #expect(elapsed < .seconds(6))
        integrations.shutdown()
    }

    @Test("Workers on one store share an integration's quota, and a restart remembers what was spent")
    func sharedQuota() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let folder = try Self.slow(server, rate: "per_minute = 3")
        let data = try ScratchFolder()
        let store = try SQLiteStore(folder: data.path)
        func worker() async -> Integrations {
            await Integrations(folder: folder.path, settings: ["slow": .init(values: ["api_key": Self.key])],
                               environment: [:], quotas: store, logger: Self.logger)
        }
        let (one, two) = (await worker(), await worker())
        for (index, integrations) in [one, two, one].enumerated() {
            #expect(await integrations.reputation(kind: "ip", value: "192.0.2.\(index)").first?.reason == "asked")
        }
        // The minute's three are spent between them: a fourth lookup, on either, waits.
        let waiting = Task { await two.reputation(kind: "ip", value: "192.0.2.9") }
        try await Task.sleep(for: .milliseconds(500))
        #expect(log.paths.withLock { $0.count } == 3, "\(log.paths.withLock { $0 })")
        waiting.cancel()
        one.shutdown()
        two.shutdown()
        // A restart remembers: the next process on the folder waits too.
        let restarted = await worker()
        let after = Task { await restarted.reputation(kind: "ip", value: "192.0.2.10") }
        try await Task.sleep(for: .milliseconds(500))
        #expect(!log.paths.withLock { $0.contains { $0.hasSuffix("192.0.2.10") } }, "\(log.paths.withLock { $0 })")
        after.cancel()
        restarted.shutdown()
        await store.close()
    }

    @Test("A quota used up for longer than a few seconds answers unknown at once, saying until when, logged once")
    func quotaUsedUp() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let folder = try Self.slow(server, rate: "per_day = 1")
        let data = try ScratchFolder()
        let store = try SQLiteStore(folder: data.path)
        let records = CapturedLog.Records()
        let integrations = await Integrations(folder: folder.path, settings: ["slow": .init(values: ["api_key": Self.key])],
                                              environment: [:], quotas: store,
                                              logger: Logger(label: "test") { _ in CapturedLog(records: records) })
        #expect(await integrations.reputation(kind: "ip", value: "192.0.2.1").first?.reason == "asked")
        let started = ContinuousClock.now
        for index in 2...3 {
            let answer = try #require(await integrations.reputation(kind: "ip", value: "192.0.2.\(index)").first)
            #expect(answer.score == .unknown && answer.failed)
            #expect(answer.reason.hasPrefix("its quota of 1 a day used up until "), "\(answer.reason)")
            #expect(answer.reason.hasSuffix(" UTC (in 23h 59m)") || answer.reason.hasSuffix(" UTC (in 1d)"), "\(answer.reason)")
        }
        // Not the failures it tells apart: a wait for the slot (a day), or for the longest wait a
        // lookup may take (5 s each, 10 s for these two) before it is refused. Neither lookup sends
        // a request, so 5 s is slack enough for a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(5), "no wait for a slot a day away")
        #expect(log.paths.withLock { $0.count } == 1)
        let warnings = records.lines.withLock { $0.map(\.message) }.filter { $0.contains("quota of 1 a day") }
        #expect(warnings.count == 1, "once until the quota frees, not once a lookup: \(warnings)")
        #expect(Verdict(await integrations.reputation(kind: "ip", value: "192.0.2.4")).summary
            .hasPrefix("unknown: no feed lists it; not asked: Slow, its quota of 1 a day used up until "))
        integrations.shutdown()
        await store.close()
    }

    @Test("Verdicts are cached in the store by score and survive a restart; failures are not cached")
    func cache() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let folder = try ScratchFolder()
        for life in 1...2 {
            let store = try SQLiteStore(folder: folder.path)
            let integrations = await Self.integrations(server)
            let service = ReputationService(feeds: nil, integrations: integrations, cache: store)
            let verdict = await service.reputation(of: .ipv4, "198.51.100.7")
            #expect(verdict.score == .malicious, "life \(life)")
            #expect(verdict.summary == "malicious: 2 of 2 sources; AbuseIPDB confidence 100%, 54 reports; VirusTotal 14/94 engines")
            _ = await service.reputation(of: .ipv4, "203.0.113.50")
            integrations.shutdown()
            await store.close()
        }
        #expect(log.count("/api/v3/ip_addresses/198.51.100.7") == 1, "the second life answered from the cache")
        #expect(log.count("/api/v3/ip_addresses/203.0.113.50") == 6, "a failure is asked again")
    }

    @Test("The cache speaks for the integrations in use only: one taken out of the configuration is not heard")
    func cacheOfIntegrationsInUse() async throws {
        let server = try await Self.servers(Log())
        defer { server.stop() }
        let folder = try ScratchFolder()
        let store = try SQLiteStore(folder: folder.path)
        let gone = SourceVerdict(source: "Gone", score: .malicious, reliability: .a, reason: "listed")
        try await store.write(.cacheVerdicts(type: "ipv4", value: "198.51.100.7", [(gone, expires: Date().addingTimeInterval(3600))]))

        let none = await Integrations(folder: folder.path + "/none", settings: [:], logger: Self.logger)
        let alone = await ReputationService(feeds: nil, integrations: none, cache: store).reputation(of: .ipv4, "198.51.100.7")
        #expect(alone.sources.isEmpty && alone.score == .unknown, "no integration looks up IPs: \(alone.summary)")
        let integrations = await Self.integrations(server)
        let asked = await ReputationService(feeds: nil, integrations: integrations, cache: store).reputation(of: .ipv4, "198.51.100.7")
        #expect(asked.sources.map(\.source) == ["AbuseIPDB", "VirusTotal"])
        integrations.shutdown()
        none.shutdown()
        await store.close()
    }
}

@Suite("Verdicts: one answer from many sources, with its reasons")
struct VerdictTests {
    static func source(_ name: String, _ score: Score, _ reliability: Reliability, allowlisted: Bool = false) -> SourceVerdict {
        SourceVerdict(source: name, score: score, reliability: reliability, reason: "says \(score.name)",
                      allowlisted: allowlisted)
    }

    @Test("An allowlist wins and says over whom")
    func allowlist() {
        let verdict = Verdict([Self.source("VirusTotal", .malicious, .b), Self.source("ours", .benign, .a, allowlisted: true)])
        #expect(verdict.score == .benign)
        #expect(verdict.summary == "benign: allowlisted by ours says benign; wins over VirusTotal malicious")
    }

    @Test("The most reliable sources decide; among them the worst score")
    func reliability() {
        #expect(Verdict([Self.source("A1", .benign, .a), Self.source("C1", .malicious, .c)]).score == .benign)
        #expect(Verdict([Self.source("B1", .benign, .b), Self.source("B2", .suspicious, .b)]).score == .suspicious)
        let mixed = Verdict([Self.source("B1", .malicious, .b), Self.source("C1", .unknown, .c), Self.source("B2", .malicious, .b)])
        #expect(mixed.summary == "malicious: 2 of 3 sources; B1 says malicious; B2 says malicious")
    }

    @Test("Unknown when no source knows it, or none handles it")
    func unknown() {
        #expect(Verdict([]).summary == "unknown: no feed lists it, and no integration is set up for it")
        #expect(Verdict([Self.source("X", .unknown, .a)]).summary == "unknown: 1 source asked, none knows it")
    }

    @Test("A source not asked (paused, over quota) is not counted as asked: the summary names it apart, with why")
    func notAsked() {
        let paused = SourceVerdict(source: "VirusTotal", score: .unknown, reliability: .b,
                                   reason: "paused until 21:06:40 UTC (timed out after 30 s at 21:05:40 UTC)", asked: false)
        #expect(paused.failed, "not cached")
        #expect(Verdict([paused]).summary
            == "unknown: no feed lists it; not asked: VirusTotal, paused until 21:06:40 UTC (timed out after 30 s at 21:05:40 UTC)")
        #expect(Verdict([Self.source("AbuseIPDB", .unknown, .b), paused]).summary
            == "unknown: 1 source asked, none knows it; not asked: VirusTotal, paused until 21:06:40 UTC "
            + "(timed out after 30 s at 21:05:40 UTC)")
        let failed = SourceVerdict(source: "OTX", score: .unknown, reliability: .c, reason: "failed: OTX answered 500", failed: true)
        #expect(Verdict([failed, paused]).summary == "unknown: 1 source asked, none knows it; could not answer: OTX failed: "
            + "OTX answered 500; not asked: VirusTotal, paused until 21:06:40 UTC (timed out after 30 s at 21:05:40 UTC)")
        let inside = ["AbuseIPDB", "OTX", "VirusTotal"].map {
            SourceVerdict(source: $0, score: .unknown, reliability: .b, reason: "private address (10.0.0.0/8), not looked up",
                          asked: false)
        }
        #expect(Verdict(inside).summary
            == "unknown: no feed lists it; not asked: AbuseIPDB, OTX and VirusTotal, private address (10.0.0.0/8), not looked up",
            "one reason, said once")
        let listed = Self.source(#"local feed "bad""#, .malicious, .b)
        #expect(Verdict([listed, paused]).summary
            == #"malicious: 1 of 1 source; local feed "bad" says malicious; not asked: VirusTotal"#)
    }
}
