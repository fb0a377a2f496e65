import Foundation
import TestSupport
import Testing

/// SIGHUP to a real `automator serve`: the configuration file read again and put in use, in the
/// same process, or nothing changed when the file does not load.
@Suite("automator serve takes its configuration again on SIGHUP", .serialized, .timeLimit(.minutes(3)))
struct ConfigurationReloadTests {
    /// The firewall of `ActionServeTests`, a configuration beside it, and a server started with both.
    struct Setup {
        let folder: TemporaryFolder
        let config: String
        let data: URL
        let server: ServerProcess
        let firewall = ActionServeTests.FirewallAPI()
        let api: LoopbackServer

        init(_ configuration: String) async throws {
            api = try await firewall.start()
            folder = try TemporaryFolder()
            _ = try folder.write("scripts/integrations/firewall.lua", ActionServeTests.firewall)
            config = try folder.write("automator.yml", configuration)
            data = folder.url.appendingPathComponent("data")
            server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"),
                                                   environment: ["FW_URL": api.url],
                                                   arguments: ["--executors", "1", "--config", config])
        }

        /// Writes `configuration` and sends SIGHUP; returns once the log says `expected`.
        func reload(_ configuration: String, expecting expected: String) async throws {
            try folder.write("automator.yml", configuration)
            server.hangUp()
            #expect(try await server.waitForLog(expected), "\(server.log)")
        }

        func stop() async {
            server.terminate()
            #expect(await server.waitForExit() == 0, "\(server.log)")
            api.stop()
        }
    }

    static let block = #"{"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}, "approve": true}"#

    @Test("A new approver approves and a leaver no longer does after SIGHUP, in the same process; a file that does not load changes nothing")
    func roles() async throws {
        let setup = try await Setup("chat:\n  roles: { approver: [alice], responder: [alice, bob] }\n")
        let server = setup.server
        let alice = try await PersonalTokenServeTests.add("alice", data: setup.data)
        let bob = try await PersonalTokenServeTests.add("bob", data: setup.data)
        let refused = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(refused.status == 403 && refused.body.contains("bob may not approve actions"), "\(refused.body)")

        try await setup.reload("chat:\n  roles: { approver: [bob], responder: [alice, bob] }\n",
                               expecting: "SIGHUP: chat.roles (approver: +bob, -alice) changed")
        let approved = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(approved.status == 201 && approved.json["approved_by"] as? String == "api:bob", "\(approved.body)")
        let leaver = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(alice))
        #expect(leaver.status == 403 && leaver.body.contains("alice may not approve actions"), "\(leaver.body)")
        #expect(setup.firewall.sent.count == 1)

        // Half a file would take away every role: the whole file loads, or nothing changes.
        try await setup.reload("chat:\n  roles: { approver: [alice]\n",
                               expecting: "SIGHUP: \(setup.config) does not load, so nothing changed")
        let still = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(still.status == 201, "the roles read before stay in use: \(still.body)")
        #expect(server.log.components(separatedBy: "listening on").count == 2, "one start: \(server.log)")
        await setup.stop()
    }

    @Test("A network added to actions.protected is refused after SIGHUP; what needs a restart is named, and kept as it was")
    func protectedNetworks() async throws {
        let setup = try await Setup("actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        let server = setup.server
        let dryRun = #"{"name": "firewall.block_ip", "params": {"ip": "192.0.2.10"}, "dry_run": true}"#
        #expect(try await server.call("POST", "/api/v1/actions", body: dryRun).status == 201)

        try await setup.reload("""
            actions:
              protected: { networks: [10.0.0.0/8, 192.0.2.0/24] }
            chat:
              report: { channel: "#soc", daily_at: "08:00" }
            """, expecting: "SIGHUP: actions.protected.networks (+192.0.2.0/24) changed; chat.report needs a restart")
        let refused = try await server.call("POST", "/api/v1/actions", body: dryRun)
        #expect(refused.status == 403 && refused.body.contains("is in the protected network 192.0.2.0/24"), "\(refused.body)")
        #expect(setup.firewall.sent.isEmpty)

        // The report still waits for the restart: the next SIGHUP says so again.
        setup.server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: \(setup.config) read again, nothing to change now; "
            + "chat.report needs a restart"), "\(server.log)")
        await setup.stop()
    }

    @Test("An integration set enabled: false is left out after SIGHUP, as when its file changes")
    func integrationSettings() async throws {
        let setup = try await Setup("chat:\n  roles: { approver: [alice] }\n")
        let server = setup.server
        let listed = try await server.call("GET", "/api/v1/actions/catalog")
        #expect(listed.body.contains("firewall.block_ip"), "\(listed.body)")

        try await setup.reload("chat:\n  roles: { approver: [alice] }\nintegrations:\n  firewall: { enabled: false }\n",
                               expecting: "SIGHUP: integrations.firewall changed")
        #expect(try await server.waitForLog("integration integrations/firewall.lua is no longer used"), "\(server.log)")
        let after = try await server.call("GET", "/api/v1/actions/catalog")
        #expect(!after.body.contains("firewall.block_ip"), "\(after.body)")
        await setup.stop()
    }
}
