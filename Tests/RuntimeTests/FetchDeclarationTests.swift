@testable import AutomatorRuntime
import Foundation
import Testing

/// `integration { fetch = { ... } }` as `Integrations` reads and runs it: its mistakes named, its
/// answers checked at the function's line, the cursor it was given passed on.
@Suite("An integration's fetch: its declaration and its answers checked", .timeLimit(.minutes(1)))
struct FetchDeclarationTests {
    @Test("Each mistake of a fetch's declaration is named; the integration is left out")
    func declarationMistakes() async throws {
        let folder = try IntegrationTests.folder(with: "acme", """
            return integration { name = "Acme", fetch = { every = "soon", source = "a b", run = 1, page = 2, opt_in = "yes" } }
            """)
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:],
                                              logger: IntegrationTests.logger)
        let message = try #require(integrations.problems.first?.message)
        for problem in ["integration: fetch: unknown field page: the fields are every, opt_in, run, source",
                        "integration: fetch.opt_in must be true (run only where the configuration says fetch: true) "
                            + "or false, got \"yes\"",
                        "integration: fetch.run must be a function(context, cursor) returning { alerts = { ... }, "
                            + "cursor = ... }, got 1",
                        "integration: fetch.every must be \(DurationText.expected), got \"soon\"",
                        "integration: fetch.source must name a mapper of scripts/mappers (letters, digits, - and _), got \"a b\""] {
            #expect(message.contains(problem), "\(message)")
        }
        #expect(integrations.fetches.isEmpty)
    }

    @Test("A fetch gets its context and cursor; its alerts come back as JSON, a bad answer fails at its line")
    func answersChecked() async throws {
        let folder = try IntegrationTests.folder(with: "acme", """
            return integration {
              name = "Acme", config = { region = "eu" },
              fetch = {
                every = "2m",
                run = function(context, cursor)
                  if cursor == "bad" then return { alerts = {}, cursor = 7 } end
                  return { alerts = { { id = "a-1", region = context.config.region, after = cursor or "start" } },
                           cursor = "c-1", more = cursor == nil }
                end,
              },
            }
            """)
        let integrations = await Integrations(folder: folder.path, settings: [:], environment: [:],
                                              logger: IntegrationTests.logger)
        #expect(integrations.fetches == [FetchDeclaration(["fetch": ["every": "2m"]], integration: "acme")!])
        #expect(integrations.fetches.first?.source == "acme" && integrations.fetches.first?.every == .seconds(120))

        let first = try await integrations.fetch("acme", cursor: nil).get()
        #expect(first.alerts.map { String(decoding: $0, as: UTF8.self) } == [#"{"after":"start","id":"a-1","region":"eu"}"#])
        #expect(first.cursor == "c-1" && first.more)
        let next = try await integrations.fetch("acme", cursor: "c-1").get()
        #expect(next.alerts.map { String(decoding: $0, as: UTF8.self) } == [#"{"after":"c-1","id":"a-1","region":"eu"}"#])
        #expect(!next.more)

        guard case .failure(let error) = await integrations.fetch("acme", cursor: "bad") else {
            Issue.record("a number for a cursor was taken")
            return
        }
        #expect(error.message.hasPrefix("integrations/acme.lua:5: fetch.run returned a number cursor: the cursor is a string"),
                "\(error.message)")
        guard case .failure(let missing) = await integrations.fetch("other", cursor: nil) else { return }
        #expect(missing.kind == .notDeclared)
        integrations.shutdown()
    }

    @Test("fetch: false in the settings turns a fetch off; one declared opt_in runs only with fetch: true")
    func onAndOff() async throws {
        func fetches(optIn: Bool, setting: Bool?) async throws -> [String] {
            let folder = try IntegrationTests.folder(with: "acme", """
                return integration {
                  name = "Acme",
                  fetch = { every = "1m", opt_in = \(optIn), run = function() return { alerts = {} } end },
                }
                """)
            var settings = IntelConfiguration.IntegrationSettings()
            settings.fetch = setting
            let integrations = await Integrations(folder: folder.path, settings: ["acme": settings], environment: [:],
                                                  logger: IntegrationTests.logger)
            defer { integrations.shutdown() }
            #expect(integrations.problems.isEmpty, "\(integrations.problems)")
            return integrations.fetches.map(\.name)
        }
        #expect(try await fetches(optIn: false, setting: nil) == ["acme"])
        #expect(try await fetches(optIn: false, setting: false) == [])
        #expect(try await fetches(optIn: true, setting: nil) == [], "opt-in: off until the configuration says so")
        #expect(try await fetches(optIn: true, setting: true) == ["acme"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("automator-fetch-\(UUID()).yml").path
        try "integrations:\n  acme: { fetch: false }\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let configuration = try IntelConfiguration(file: file)
        #expect(configuration.integrations["acme"]?.fetch == false && configuration.integrations["acme"]?.values == [:])
    }
}
