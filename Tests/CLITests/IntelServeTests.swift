import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@Suite("Intel through a real automator serve: feeds, an integration, the API, playbooks and the CLI",
       .timeLimit(.minutes(2)))
struct IntelServeTests {
    static let key = "vt-test-key-987"
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/integrations/virustotal.lua")

    /// VirusTotal's v3 API on loopback: 14 engines against 198.51.100.7, unknown otherwise.
    static func virusTotal() async throws -> LoopbackServer {
        let router = Router()
        router.get("/api/v3/ip_addresses/:ip") { request, context -> Response in
            guard request.headers[.init("x-apikey")!] == key else { return Response(status: .unauthorized) }
            let malicious = context.parameters.get("ip") == "198.51.100.7" ? 14 : 0
            let body = #"{"data": {"attributes": {"last_analysis_stats": {"malicious": \#(malicious), "harmless": 50, "undetected": 10}}}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return try await LoopbackServer(router)
    }

    struct Workspace {
        let folder: TemporaryFolder
        var scripts: URL { folder.url.appendingPathComponent("scripts") }
        var data: URL { folder.url.appendingPathComponent("data") }
        var config: URL { folder.url.appendingPathComponent("automator.yml") }

        init(virusTotal: LoopbackServer) throws {
            folder = try TemporaryFolder()
            try folder.write("scripts/integrations/virustotal.lua", String(contentsOf: IntelServeTests.shipped, encoding: .utf8))
            try folder.write("feeds/bad-ips.txt", "# Known C2\n198.51.100.7 C2 of the Acme campaign\n999.1.1.1 broken\n")
            try folder.write("feeds/ours.txt", "192.0.2.0/24 our office range\n")
            try folder.write("automator.yml", """
                feeds:
                  - name: bad-ips
                    path: feeds/bad-ips.txt
                    verdict: malicious
                  - name: ours
                    path: feeds/ours.txt
                    verdict: allowlist
                integrations:
                  virustotal:
                    base_url: \(virusTotal.url)/api/v3
                    api_key: ${VT_KEY}
                """)
            try folder.write("scripts/playbooks/check.lua", """
                return playbook {
                  name = "Check", match = { type = "check" },
                  run = function(inc)
                    for _, found in ipairs(intel.extract(inc.details)) do
                      inc:note(found.value .. " " .. intel.reputation(found.value).summary)
                    end
                    inc:close{ reason = "checked" }
                  end,
                }
                """)
        }

        func start() async throws -> ServerProcess {
            try await ServerProcess.start(data: data, scripts: scripts, environment: ["VT_KEY": IntelServeTests.key],
                                          arguments: ["--executors", "1", "--config", config.path])
        }
    }

    @Test("A feed, an allowlist and VirusTotal give one verdict with its reasons, in the API, a playbook and the CLI")
    func verdicts() async throws {
        let virusTotal = try await Self.virusTotal()
        defer { virusTotal.stop() }
        let workspace = try Workspace(virusTotal: virusTotal)
        let server = try await workspace.start()

        let bad = try await server.call("GET", "/api/v1/intel/reputation?value=198.51.100%5B.%5D7")
        #expect(bad.status == 200, "\(bad.body)")
        #expect(bad.json["verdict"] as? String == "malicious")
        #expect(bad.json["value"] as? String == "198.51.100.7", "refanged")
        #expect(bad.json["summary"] as? String
            == #"malicious: 2 of 2 sources; local feed "bad-ips" (C2 of the Acme campaign); VirusTotal 14/74 engines"#,
            "\(bad.body)")
        let ours = try await server.call("GET", "/api/v1/intel/reputation?value=192.0.2.10")
        #expect(ours.json["verdict"] as? String == "benign")
        #expect((ours.json["summary"] as? String)?.hasPrefix(#"benign: allowlisted by local feed "ours""#) == true, "\(ours.body)")
        #expect(try await server.call("GET", "/api/v1/intel/reputation?value=hello").status == 400)

        let created = try await server.call("POST", "/api/v1/incidents", body: """
            {"title": "Odd traffic", "type": "check", "severity": "low", "details": "to 198.51.100.7 and hxxp://192.0.2.10/x"}
            """)
        let id = try #require(created.json["id"] as? String)
        _ = try await server.waitForIncident(id) { $0["status"] as? String == "closed" }
        let notes = try await server.journal(id).filter { $0.kind == "note" }.map(\.text)
        #expect(notes.first == #"198.51.100.7 malicious: 2 of 2 sources; local feed "bad-ips" (C2 of the Acme campaign); VirusTotal 14/74 engines"#,
                "\(notes)")
        #expect(notes.contains { $0.hasPrefix("192.0.2.10 benign: allowlisted") }, "\(notes)")

        let lookup = try await AutomatorProcess.run(["intel", "lookup", "198.51.100.7", "--data", workspace.data.path,
                                                     "--config", "other.yml"],
                                                    environment: ["AUTOMATOR_API_TOKEN": server.token])
        #expect(lookup.status == 0, "\(lookup.stderr)")
        #expect(lookup.stderr.contains("answers with its own configuration: other.yml is not read"), "\(lookup.stderr)")
        #expect(lookup.stdout.hasPrefix("198.51.100.7 (ipv4): malicious\n"), "\(lookup.stdout)")
        #expect(lookup.stdout.contains("VirusTotal"), "\(lookup.stdout)")
        #expect(!server.log.contains(Self.key), "the key is not logged")

        // What was looked up exports as a valid STIX 2.1 bundle, with stable ids.
        let export = try await server.call("GET", "/api/v1/intel/export?format=stix")
        #expect(export.status == 200)
        let objects = try #require(export.json["objects"] as? [[String: Any]])
        let patterns = objects.compactMap { $0["pattern"] as? String }
        #expect(patterns.contains("[ipv4-addr:value = '198.51.100.7']"), "\(patterns)")
        #expect(patterns.contains("[ipv4-addr:value = '192.0.2.10']"))
        let again = try await server.call("GET", "/api/v1/intel/export?format=stix").json["objects"] as? [[String: Any]]
        #expect(again?.compactMap { $0["id"] as? String } == objects.compactMap { $0["id"] as? String })
        let file = workspace.folder.url.appendingPathComponent("bundle.json")
        try Data(export.body.utf8).write(to: file)
        let validation = try await AutomatorProcess.python("""
            import sys
            from stix2validator import validate_file, print_results
            results = validate_file(sys.argv[1])
            print_results(results)
            sys.exit(0 if results.is_valid else 1)
            """, arguments: [file.path])
        #expect(validation.status == 0, "stix2-validator: \(validation.stdout) \(validation.stderr)")
        #expect(!validation.stdout.contains("Warning"), "\(validation.stdout)")
    }

    @Test("A revoked VirusTotal key (401) is one line of the log, and /healthz and /metrics show its lookups failing until one succeeds")
    func revokedKey() async throws {
        let revoked = Atomic<Bool>(true)
        let router = Router()
        router.get("/api/v3/ip_addresses/:ip") { _, _ -> Response in
            guard !revoked.load(ordering: .sequentiallyConsistent) else { return Response(status: .unauthorized) }
            let body = #"{"data": {"attributes": {"last_analysis_stats": {"malicious": 0, "harmless": 50}}}}"#
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let virusTotal = try await LoopbackServer(router)
        defer { virusTotal.stop() }
        let workspace = try Workspace(virusTotal: virusTotal)
        let server = try await workspace.start()
        for last in 21...23 {
            _ = try await server.call("GET", "/api/v1/intel/reputation?value=198.51.100.\(last)")
        }
        let told = server.log.split(separator: "\n").filter { $0.contains("VirusTotal refused the API key (401)") }
        #expect(told.count == 1 && told[0].contains("integration VirusTotal: a lookup failed: "), "\(server.log)")
        #expect(!server.log.contains("traceback"), "\(server.log)")
        let health = try await server.call("GET", "/healthz", credentials: .none)
        let failing = try #require((health.json["integrations_lookups_failing"] as? [[String: Any]])?.first, "\(health.body)")
        #expect(failing["integration"] as? String == "virustotal" && failing["failed"] as? Int == 3, "\(health.body)")
        #expect(!health.body.contains("198.51.100") && !health.body.contains("401"), "why is the log's: \(health.body)")
        #expect(try await server.call("GET", "/metrics").body
            .contains(#"automator_integration_lookups_failing{integration="virustotal"} 1"#))

        revoked.store(false, ordering: .sequentiallyConsistent)
        _ = try await server.call("GET", "/api/v1/intel/reputation?value=198.51.100.24")
        #expect(try await server.waitForLog("integration VirusTotal: lookups succeed again, after 3 failed lookups since "),
                "\(server.log)")
        let healthy = try await server.call("GET", "/healthz", credentials: .none)
        #expect((healthy.json["integrations_lookups_failing"] as? [Any])?.isEmpty == true, "\(healthy.body)")
        #expect(try await server.call("GET", "/metrics").body
            .contains(#"automator_integration_lookups_failing{integration="virustotal"} 0"#))
    }

    @Test("A paused VirusTotal shows in /healthz and /metrics, with why and until when, and intel lookup says it was not asked")
    func pausedIntegration() async throws {
        // VirusTotal over its quota for two minutes: the first lookup meets it, and pauses it for as long.
        let requests = Mutex(0)
        let router = Router()
        router.get("/api/v3/ip_addresses/:ip") { _, _ -> Response in
            requests.withLock { $0 += 1 }
            return Response(status: .tooManyRequests, headers: [.retryAfter: "120"])
        }
        let virusTotal = try await LoopbackServer(router)
        defer { virusTotal.stop() }
        let workspace = try Workspace(virusTotal: virusTotal)
        let server = try await workspace.start()
        let healthy = try await server.call("GET", "/healthz", credentials: .none)
        #expect((healthy.json["integrations_paused"] as? [Any])?.isEmpty == true, "\(healthy.body)")
        #expect(try await server.call("GET", "/metrics").body.contains(#"automator_integration_paused{integration="virustotal"} 0"#))

        let before = Date()
        let first = try await server.call("GET", "/api/v1/intel/reputation?value=198.51.100.20")
        #expect(first.json["summary"] as? String
            == "unknown: 1 source asked, none knows it; could not answer: VirusTotal failed: VirusTotal's quota is used up (429)",
            "not waited for: \(first.body)")
        #expect(Date().timeIntervalSince(before) < 5, "the Retry-After is not slept out")

        let health = try await server.call("GET", "/healthz", credentials: .none)
        #expect(health.status == 200 && health.json["status"] as? String == "ok", "\(health.body)")
        let paused = try #require((health.json["integrations_paused"] as? [[String: String]])?.first, "\(health.body)")
        #expect(paused["integration"] == "virustotal")
        #expect(paused["reason"]?.hasPrefix("answered 429 at ") == true, "\(health.body)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let since = try #require(paused["since"].flatMap(formatter.date(from:)), "\(health.body)")
        let until = try #require(paused["until"].flatMap(formatter.date(from:)), "\(health.body)")
        #expect(abs(until.timeIntervalSince(since) - 120) < 0.01, "\(health.body)")

        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_integration_paused{integration="virustotal"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"automator_integration_paused_until_timestamp_seconds{integration="virustotal"} "#
            + "\(Int(until.timeIntervalSince1970.rounded(.up)))"), "\(metrics)")

        let lookup = try await AutomatorProcess.run(["intel", "lookup", "198.51.100.21", "--data", workspace.data.path],
                                                    environment: ["AUTOMATOR_API_TOKEN": server.token])
        #expect(lookup.status == 0, "\(lookup.stderr)")
        let lines = lookup.stdout.split(separator: "\n")
        #expect(lines.count == 3 && lines[1].hasPrefix("  unknown: no feed lists it; not asked: VirusTotal, paused until "),
                "\(lookup.stdout)")
        #expect(lines.last?.hasPrefix("  VirusTotal  B  unknown    paused until ") == true, "\(lookup.stdout)")
        #expect(requests.withLock { $0 } == 1, "nothing reached VirusTotal while it was paused")
    }

    @Test("/healthz lists a pause only while it holds lookups back: not once its end passed with no lookup since")
    func endedPauseNotListed() async throws {
        // VirusTotal asks for a second's rest: the pause ends a second after the lookup that met it.
        let router = Router()
        router.get("/api/v3/ip_addresses/:ip") { _, _ -> Response in
            Response(status: .tooManyRequests, headers: [.retryAfter: "1"])
        }
        let virusTotal = try await LoopbackServer(router)
        defer { virusTotal.stop() }
        let workspace = try Workspace(virusTotal: virusTotal)
        let server = try await workspace.start()
        _ = try await server.call("GET", "/api/v1/intel/reputation?value=198.51.100.20")
        let health = try await server.call("GET", "/healthz", credentials: .none)
        let paused = try #require((health.json["integrations_paused"] as? [[String: String]])?.first, "\(health.body)")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let until = try #require(paused["until"].flatMap(formatter.date(from:)), "\(health.body)")

        try await Task.sleep(for: .seconds(max(0, until.timeIntervalSinceNow) + 0.1))
        let ended = try await server.call("GET", "/healthz", credentials: .none)
        #expect((ended.json["integrations_paused"] as? [Any])?.isEmpty == true, "the next lookup asks: \(ended.body)")
        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_integration_paused{integration="virustotal"} 0"#), "\(metrics)")
    }

    @Test("serve listens before a feed is loaded, and reloads it in the background: no lookup or run waits for it")
    func feedLoadedInBackground() async throws {
        let folder = try TemporaryFolder()
        let feed = try folder.write("feeds/big.txt", "198.51.100.7 C2\n")
        let config = try folder.write("automator.yml", "feeds:\n  - name: big\n    path: feeds/big.txt\n    verdict: malicious\n")
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("scripts"),
                                                withIntermediateDirectories: true)
        // The file held, as a large one on a slow disk would be: its load cannot end before the
        // lease goes, however fast or loaded the machine.
        let firstLoad = try FileLease(feed)
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   arguments: ["--executors", "1", "--config", config])
        #expect(try await server.waitForLog("loading feed big ("), "\(server.log)")
        #expect(try await server.call("GET", "/healthz", credentials: .none).status == 200)
        // A lookup meanwhile waits for the first load rather than say that no feed lists it.
        async let first = server.call("GET", "/api/v1/intel/reputation?value=198.51.100.7")
        firstLoad.release()
        let answer = try await first
        #expect(answer.json["verdict"] as? String == "malicious", "\(answer.body)")
        #expect(try await server.waitForLog("feed big loaded: 1 entry in "), "\(server.log)")

        // Changed, and held again: the run that notices answers from the previous version, and
        // neither it nor the next run on its executor waits for the reload.
        try folder.write("feeds/big.txt", "198.51.100.8 C2\n")
        let reload = try FileLease(feed)
        try await Task.sleep(for: .milliseconds(1100))  // a second since the files were last looked at
        let noticing = try await server.submit(#"{"source": "return intel.reputation('198.51.100.8').verdict"}"#)
        let next = try await server.submit(#"{"source": "return 1 + 1"}"#)
        #expect(try await server.waitForRun(noticing)["result"] as? [String] == ["unknown"])
        #expect(try await server.waitForRun(next)["result"] as? [Int] == [2])
        #expect(try await server.waitForLog("reloading feed big ("), "\(server.log)")
        reload.release()
        #expect(try await server.waitForLog("feed big reloaded: 1 entry in "), "\(server.log)")
        let after = try await server.call("GET", "/api/v1/intel/reputation?value=198.51.100.8")
        #expect(after.json["verdict"] as? String == "malicious", "\(after.body)")
    }

    @Test("A configuration error stops serve at start, naming the file, the line and the key")
    func badConfiguration() async throws {
        let virusTotal = try await Self.virusTotal()
        defer { virusTotal.stop() }
        let workspace = try Workspace(virusTotal: virusTotal)
        try workspace.folder.write("automator.yml", "feeds:\n  - name: x\n    path: a.txt\n    verdict: evil\n")
        let result = try await AutomatorProcess.run(["serve", "--data", workspace.data.path, "--scripts",
                                                     workspace.scripts.path, "--config", workspace.config.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("automator.yml:4: feeds[0].verdict: malicious, suspicious or allowlist expected"),
                "\(result.stderr)")
    }

    @Test("intel extract prints JSON lines with byte offsets, and --per-line adds the line")
    func extract() async throws {
        let folder = try TemporaryFolder()
        try folder.write("report.txt", "Beacon to hxxp://evil[.]example/a from 203.0.113.7\nhash 44D88612FEA8A8F36DE82E1278ABB02F\n")
        let whole = try await AutomatorProcess.run(["intel", "extract", "report.txt"], in: folder.url)
        #expect(whole.status == 0, "\(whole.stderr)")
        let lines = whole.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"{"type":"url","value":"http://evil.example/a","start":10,"end":33}"#), "\(whole.stdout)")
        #expect(lines.contains(#"{"type":"md5","value":"44d88612fea8a8f36de82e1278abb02f","start":56,"end":88}"#),
                "\(whole.stdout)")
        let perLine = try await AutomatorProcess.run(["intel", "extract", "--per-line", "report.txt"], in: folder.url)
        #expect(perLine.stdout.contains(#"{"type":"md5","value":"44d88612fea8a8f36de82e1278abb02f","start":5,"end":37,"line":2}"#),
                "\(perLine.stdout)")
    }

    @Test("intel lookup and export refuse a data folder that is not there, and do not make it")
    func missingFolder() async throws {
        let folder = try TemporaryFolder()
        for arguments in [["intel", "export", "--data", "nowhere"], ["intel", "lookup", "203.0.113.7", "--data", "nowhere"]] {
            let result = try await AutomatorProcess.run(arguments, in: folder.url)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.contains("there is no data folder nowhere: pass --data"), "\(result.stderr)")
            #expect(result.stdout.isEmpty, "no empty bundle")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("nowhere").path))
    }

    @Test("A name under no public suffix is refused, saying why: evil.example is not looked up")
    func reservedName() async throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("data"), withIntermediateDirectories: true)
        let result = try await AutomatorProcess.run(["intel", "lookup", "evil[.]example", "--data", "data"], in: folder.url)
        #expect(result.status == 64)
        #expect(result.stderr.contains("'evil[.]example' is not an IP, domain, URL, e-mail address, hash or CVE (a domain "
            + "ends in a public suffix such as .com or .co.uk"), "\(result.stderr)")
    }
}
