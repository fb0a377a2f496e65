import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@Suite("An integration edited under a running automator serve", .timeLimit(.minutes(2)))
struct IntegrationReloadTests {
    /// An intel API on loopback that answers the looked-up IP back; a lookup of 198.51.100.99
    /// waits until `release` is set, so that it is in flight while the file changes.
    final class ProbeAPI: Sendable {
        let waiting = Atomic<Bool>(false)
        let release = Atomic<Bool>(false)

        func start() async throws -> LoopbackServer {
            let router = Router()
            router.get("/probe/:ip") { [self] _, context -> String in
                let ip = context.parameters.get("ip") ?? ""
                if ip == "198.51.100.99" {
                    waiting.store(true, ordering: .sequentiallyConsistent)
                    while !release.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(20)) }
                }
                return ip
            }
            return try await LoopbackServer(router)
        }
    }

    static func probe(_ version: String, url: String) -> String {
        """
        return integration {
          name = "Probe",
          config = { base_url = { default = "\(url)" } },
          reputation = {
            ip = function(ip, config)
              local answer = http.get(config.base_url .. "/probe/" .. ip)
              return { score = "suspicious", reason = "\(version) saw " .. answer.body }
            end,
          },
        }
        """
    }

    /// The verdict on `ip` with every source's reason, as the API answers it.
    static func reason(_ server: ServerProcess, _ ip: String) async throws -> String {
        try await server.call("GET", "/api/v1/intel/reputation?value=\(ip)").body
    }

    @Test("""
        An edited integration is used without a restart, a lookup in flight finishes on the version it \
        started with, a file that no longer loads keeps the previous version in use and says so once, in the \
        log, /healthz, /metrics and automator check; added and removed files are taken too
        """)
    func reload() async throws {
        let api = ProbeAPI()
        let loopback = try await api.start()
        defer { loopback.stop() }
        let folder = try TemporaryFolder()
        let scripts = folder.url.appendingPathComponent("scripts")
        try folder.write("scripts/integrations/probe.lua", Self.probe("v1", url: loopback.url))
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: scripts)
        #expect(try await Self.reason(server, "198.51.100.1").contains("v1 saw 198.51.100.1"))

        // In flight while the file changes: it answers from the version it started with.
        let inFlight = Task { try await Self.reason(server, "198.51.100.99") }
        while !api.waiting.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(20)) }
        try folder.write("scripts/integrations/probe.lua", Self.probe("version 2", url: loopback.url))
        #expect(try await server.waitForLog("integration integrations/probe.lua changed: the new version is in use"),
                "\(server.log)")
        #expect(try await Self.reason(server, "198.51.100.2").contains("version 2 saw 198.51.100.2"))
        api.release.store(true, ordering: .sequentiallyConsistent)
        #expect(try await inFlight.value.contains("v1 saw 198.51.100.99"))

        // Broken: the previous version stays in use, and the error is told with its line.
        try folder.write("scripts/integrations/probe.lua", "return integration {\n  name = \"Probe\",\n  config = = 1,\n}\n")
        let error = "integrations/probe.lua:3: unexpected symbol near '='"
        #expect(try await server.waitForLog(error), "\(server.log)")
        #expect(try await Self.reason(server, "198.51.100.3").contains("version 2 saw 198.51.100.3"))
        let health = try await server.call("GET", "/healthz", credentials: .none)
        #expect(health.status == 200)
        let failing = try #require((health.json["integrations_failing"] as? [[String: String]])?.first, "\(health.body)")
        #expect(failing["file"] == "integrations/probe.lua")
        #expect(failing["error"]?.contains(error) == true, "\(health.body)")
        #expect(failing["error"]?.contains("the previous version stays in use until the file loads") == true)
        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_integration_failing{integration="probe"} 1"#), "\(metrics)")
        let check = try await AutomatorProcess.run(["check", "--scripts", scripts.path])
        #expect(check.status != 0)
        #expect(check.stdout.contains(error) || check.stderr.contains(error), "\(check.stdout) \(check.stderr)")

        // Added, then removed; the broken file is not told about again.
        try folder.write("scripts/integrations/extra.lua", """
            return integration {
              name = "Extra",
              reputation = { ip = function(ip) return { score = "benign", reason = "extra knows " .. ip } end },
            }
            """)
        #expect(try await server.waitForLog("integrations/extra.lua"), "\(server.log)")
        #expect(try await Self.reason(server, "198.51.100.4").contains("extra knows 198.51.100.4"))
        try FileManager.default.removeItem(at: scripts.appendingPathComponent("integrations/extra.lua"))
        #expect(try await server.waitForLog("integration integrations/extra.lua is no longer used"), "\(server.log)")
        #expect(!(try await Self.reason(server, "198.51.100.5")).contains("extra knows"))
        #expect(server.log.components(separatedBy: error).count == 2, "told once: \(server.log)")

        // Fixed: in use again, and no longer failing.
        try folder.write("scripts/integrations/probe.lua", Self.probe("v3", url: loopback.url))
        #expect(try await server.waitForLog("integration integrations/probe.lua changed", count: 2), "\(server.log)")
        #expect(try await Self.reason(server, "198.51.100.6").contains("v3 saw 198.51.100.6"))
        let healthy = try await server.call("GET", "/healthz", credentials: .none)
        #expect((healthy.json["integrations_failing"] as? [Any])?.isEmpty == true, "\(healthy.body)")
        let after = try await server.call("GET", "/metrics").body
        #expect(after.contains(#"automator_integration_failing{integration="probe"} 0"#), "\(after)")
    }
}
