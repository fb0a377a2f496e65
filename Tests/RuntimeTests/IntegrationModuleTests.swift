import AutomatorRuntime
import Foundation
import Logging
import TestSupport
import Testing

/// An integration's `require` of the scripts folder's modules (`lib.*`), on the executor that runs
/// its lookups and actions as `serve` does.
@Suite("Integrations require the scripts folder's modules", .timeLimit(.minutes(1)))
struct IntegrationModuleTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// A scripts folder holding `files`, reached through a link to it (`scripts -> real`), as a
    /// checkout linked into place is.
    static func linkedScripts(_ files: [String: String]) throws -> (folder: ScratchFolder, scripts: String) {
        let folder = try ScratchFolder()
        for (path, text) in files {
            let file = folder.path + "/real/" + path
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: file, atomically: true, encoding: .utf8)
        }
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/scripts", withDestinationPath: "real")
        return (folder, folder.path + "/scripts")
    }

    @Test("A lookup and an action run the module their integration requires, on the integration's executor")
    func lookupAndAction() async throws {
        let (folder, scripts) = try Self.linkedScripts(RequiringIntegration.files)
        let integrations = await Integrations(folder: scripts + "/integrations", settings: [:], environment: [:],
                                              logger: Self.logger)
        #expect(integrations.problems.isEmpty, "\(integrations.problems)")
        let listed = try #require(await integrations.reputation(kind: "ip", value: "198.51.100.7").first)
        #expect(listed.score == .malicious && listed.reason == "listed by the blocklist", "\(listed)")
        let clean = try #require(await integrations.reputation(kind: "ip", value: "192.0.2.1").first)
        #expect(clean.score == .benign && clean.reason == "not listed by the blocklist", "\(clean)")

        let (service, store) = try await ResponseIntegrationTests.service(integrations, in: folder)
        let judged = try await ResponseIntegrationTests.run(service, "blocklist.judge", ["ip": "198.51.100.7"], key: "k/1").get()
        #expect(judged.result == #"{"reason":"listed by the blocklist","score":"malicious"}"#, "\(judged)")
        await store.close()
        integrations.shutdown()
    }

    @Test("A module that is not there leaves the integration out, naming the module and the file looked for")
    func missingModule() async throws {
        let (folder, scripts) = try Self.linkedScripts([
            "integrations/blocklist.lua": RequiringIntegration.integration.replacingOccurrences(of: "lib.listing",
                                                                                               with: "lib.listings"),
        ])
        let integrations = await Integrations(folder: scripts + "/integrations", settings: [:], environment: [:],
                                              logger: Self.logger)
        #expect(integrations.available.isEmpty)
        let problem = try #require(integrations.problems.first)
        #expect(problem.path == "integrations/blocklist.lua")
        #expect(problem.message.hasPrefix("integrations/blocklist.lua:1: module 'lib.listings' not found: "
            + "no file '\(scripts)/lib/listings.lua'"), "\(problem.message)")
        integrations.shutdown()
        withExtendedLifetime(folder) {}
    }
}
