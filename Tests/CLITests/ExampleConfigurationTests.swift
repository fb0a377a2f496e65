import Foundation
import Testing

@Suite("A fresh install with the example configuration", .timeLimit(.minutes(2)))
struct ExampleConfigurationTests {
    @Test("serve with scripts/ and scripts/examples/automator.yml, and no integration's key, is healthy and says once what is not set up")
    func quietAndHealthy() async throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let scripts = repository.appendingPathComponent("scripts")
        let folder = try TemporaryFolder()
        #expect(ProcessInfo.processInfo.environment["VIRUSTOTAL_API_KEY"] == nil, "a machine with no key, as a fresh one")
        let server = try await ServerProcess.start(
            data: folder.url.appendingPathComponent("data"), scripts: scripts,
            arguments: ["--executors", "1", "--config", scripts.appendingPathComponent("examples/automator.yml").path])
        let health = try await server.call("GET", "/healthz", credentials: .none)
        #expect(health.json["status"] as? String == "ok" && (health.json["integrations_failing"] as? [Any])?.isEmpty == true, "\(health.body)")
        #expect(server.log.contains("integrations not set up, not used: ") && server.log.contains("virustotal"), "\(server.log)")
        let warnings = server.log.split(separator: "\n").filter { $0.contains(" warning ") && $0.contains("integration") }
        #expect(warnings.isEmpty, "a fresh install warns of no integration: \(warnings)")
    }
}
