import Foundation
import TestSupport
import Testing

/// `scripts/integrations/okta.lua`'s actions through `automator action run`, against a loopback
/// Okta: the SSWS token, the documented paths, and what a 403, a 404 and a 429 tell the operator.
@Suite("Okta's actions through automator action run: suspend, unsuspend, clear sessions, expire a password",
       .serialized, .timeLimit(.minutes(3)))
struct OktaActionTests {
    /// A data folder, and a configuration that points okta.lua at `okta`, protects breakglass and
    /// names alice the approver.
    struct Setup {
        let folder: TemporaryFolder
        let config: String

        init(_ okta: LoopbackOkta) throws {
            folder = try TemporaryFolder()
            try FileManager.default.createDirectory(at: folder.url.appendingPathComponent("data"), withIntermediateDirectories: true)
            config = try folder.write("automator.yml", """
                integrations:
                  okta: { api_url: "\(okta.url)/", api_token: "\(LoopbackOkta.token)" }
                actions:
                  protected: { accounts: [breakglass@example.com] }
                chat:
                  roles: { approver: [alice] }
                """)
        }

        /// `automator action` with `arguments`, as alice, on this folder and configuration.
        func action(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(["action"] + arguments + [
                "--data", folder.url.appendingPathComponent("data").path, "--scripts", PlaybookTrialTests.scripts.path,
            ], environment: ["USER": "alice"])
        }

        /// `automator action run NAME --param user=USER --approve`.
        func run(_ name: String, user: String) async throws -> AutomatorProcess.Result {
            try await action(["run", name, "--param", "user=\(user)", "--approve", "--config", config])
        }
    }

    @Test("Suspend and its undo, clear sessions with the OAuth tokens, expire a password: the documented calls, with the SSWS token")
    func actions() async throws {
        let okta = try await LoopbackOkta()
        defer { okta.stop() }
        let setup = try Setup(okta)

        let suspended = try await setup.run("okta.suspend_user", user: "l.moreau@example.com")
        #expect(suspended.status == 0 && suspended.stdout.contains("  done  okta.suspend_user"),
                "\(suspended.stdout)\(suspended.stderr)")
        #expect(suspended.stdout.contains(#""status":"SUSPENDED""#), "\(suspended.stdout)")
        let id = try #require(suspended.stdout.split(separator: " ").first.map(String.init))
        let undone = try await setup.action(["undo", id, "--config", setup.config])
        #expect(undone.status == 0 && undone.stdout.hasPrefix("\(id)  undone"), "\(undone.stdout)\(undone.stderr)")
        let cleared = try await setup.run("okta.clear_sessions", user: "l.moreau@example.com")
        #expect(cleared.status == 0 && cleared.stdout.contains(#""oauth_tokens_revoked":true"#), "\(cleared.stdout)\(cleared.stderr)")
        let expired = try await setup.run("okta.expire_password", user: "00u1x7q9zkAbCdEf5d7")
        #expect(expired.status == 0 && expired.stdout.contains(#""status":"PASSWORD_EXPIRED""#), "\(expired.stdout)\(expired.stderr)")

        #expect(okta.received.lines == [
            "POST /api/v1/users/l.moreau@example.com/lifecycle/suspend",
            "POST /api/v1/users/l.moreau@example.com/lifecycle/unsuspend",
            "DELETE /api/v1/users/l.moreau@example.com/sessions?oauthTokens=true",
            "POST /api/v1/users/00u1x7q9zkAbCdEf5d7/lifecycle/expire_password",
        ])
        #expect(okta.received.all.allSatisfy { $0.headers["authorization"] == "SSWS \(LoopbackOkta.token)" })
    }

    @Test("A protected account is refused before Okta is asked; a 404 names the user, a 403 the token's admin role")
    func refusals() async throws {
        let okta = try await LoopbackOkta()
        defer { okta.stop() }
        let setup = try Setup(okta)

        let protected = try await setup.run("okta.suspend_user", user: "BreakGlass@example.com")
        #expect(protected.status == 1 && protected.stderr.contains("BreakGlass@example.com is a protected account"), "\(protected.stdout)\(protected.stderr)")
        #expect(okta.received.lines.isEmpty)

        let ghost = try await setup.run("okta.suspend_user", user: "ghost@example.com")
        #expect(ghost.status == 1 && ghost.stderr.contains("okta.suspend_user failed: Okta, suspend ghost@example.com: 404 "
            + "Not found: Resource not found: ghost@example.com (User) (no Okta user has the id or login ghost@example.com)"),
                "\(ghost.stderr)")

        okta.fail(.forbidden)
        let forbidden = try await setup.run("okta.clear_sessions", user: "l.moreau@example.com")
        #expect(forbidden.status == 1 && forbidden.stderr.contains("Okta, clear sessions of l.moreau@example.com: 403 You do "
            + "not have permission to perform the requested action (the API token acts with its creator's admin role, "
            + "which may not manage this user: create the token as a Super or Org Administrator)"), "\(forbidden.stderr)")
    }

    @Test("A 429 is asked again once its X-Rate-Limit-Reset has come; one that lasts fails, saying when Okta takes requests again")
    func rateLimit() async throws {
        let okta = try await LoopbackOkta()
        defer { okta.stop() }
        let setup = try Setup(okta)

        okta.fail(.throttledOnce)
        let suspended = try await setup.run("okta.suspend_user", user: "l.moreau@example.com")
        #expect(suspended.status == 0 && suspended.stdout.contains("  done  okta.suspend_user"),
                "\(suspended.stdout)\(suspended.stderr)")
        #expect(okta.received.lines == Array(repeating: "POST /api/v1/users/l.moreau@example.com/lifecycle/suspend", count: 2),
                "the 429, and the request asked again once its window reset, not before")

        okta.fail(.throttled)
        let limited = try await setup.run("okta.clear_sessions", user: "l.moreau@example.com")
        #expect(limited.status == 1 && limited.stderr.contains("Okta, clear sessions of l.moreau@example.com: 429 API call "
            + "exceeded rate limit due to too many requests. (Okta takes requests again at "), "\(limited.stderr)")
        #expect(okta.received.lines.count == 2 + 3, "asked three times in all, as for any integration")
    }
}
