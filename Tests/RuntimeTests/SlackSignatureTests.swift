@testable import AutomatorRuntime
import Foundation
import Testing

@Suite("Slack: request signatures")
struct SlackSignatureTests {
    /// The example of Slack's "Verifying requests from Slack": a slash command's form body.
    static let documented = (
        secret: "8f742231b10e8888abcd99yyyzzz85a5",
        timestamp: "1531420618",
        body: "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&"
            + "channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&"
            + "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&"
            + "trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
        signature: "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )

    /// Ours: a JSON body with non-ASCII text, the HMAC computed with Python's `hmac` module.
    static let ours = (
        secret: "automator-test-secret",
        timestamp: "1700000000",
        body: #"{"text":"héllo ✓"}"#,
        signature: "v0=612346d38250cf78e5c1c5be6406b8b5623a1593bee32b0edcaa31d8b01ec1ff"
    )

    static func verify(_ body: String, timestamp: String?, signature: String?, secret: String, now: TimeInterval)
        -> SlackSignature.Refusal?
    {
        do throws(SlackSignature.Refusal) {
            try SlackSignature.verify(body: Array(body.utf8), timestamp: timestamp, signature: signature, secret: secret,
                                      now: Date(timeIntervalSince1970: now))
            return nil
        } catch {
            return error
        }
    }

    @Test("Slack's documented example and one of ours verify, and are what compute gives")
    func examples() {
        for example in [Self.documented, Self.ours] {
            let now = TimeInterval(example.timestamp)! + 30
            #expect(Self.verify(example.body, timestamp: example.timestamp, signature: example.signature,
                                secret: example.secret, now: now) == nil)
            #expect(SlackSignature.compute(body: Array(example.body.utf8), timestamp: example.timestamp,
                                           secret: example.secret) == example.signature)
        }
    }

    @Test("A wrong secret, a changed body or timestamp, another version or a missing header are refused")
    func forgeries() {
        let example = Self.documented
        let now = TimeInterval(example.timestamp)!
        #expect(Self.verify(example.body, timestamp: example.timestamp, signature: example.signature,
                            secret: "8f742231b10e8888abcd99yyyzzz85a6", now: now) == .mismatch)
        #expect(Self.verify(example.body.replacingOccurrences(of: "roadrunner", with: "coyote"),
                            timestamp: example.timestamp, signature: example.signature, secret: example.secret,
                            now: now) == .mismatch)
        #expect(Self.verify(example.body, timestamp: "1531420619", signature: example.signature,
                            secret: example.secret, now: now) == .mismatch)
        #expect(Self.verify(example.body, timestamp: example.timestamp, signature: "v1=" + example.signature.dropFirst(3),
                            secret: example.secret, now: now) == .mismatch)
        #expect(Self.verify(example.body, timestamp: example.timestamp, signature: example.signature.uppercased(),
                            secret: example.secret, now: now) == .mismatch)
        #expect(Self.verify(example.body, timestamp: example.timestamp, signature: "v0=",
                            secret: example.secret, now: now) == .mismatch)
        #expect(Self.verify(example.body, timestamp: example.timestamp, signature: nil,
                            secret: example.secret, now: now) == .missingHeaders)
        #expect(Self.verify(example.body, timestamp: nil, signature: example.signature,
                            secret: example.secret, now: now) == .missingHeaders)
        // Signed with an empty key, as anyone can when the secret is empty.
        let forged = SlackSignature.compute(body: Array(example.body.utf8), timestamp: example.timestamp, secret: "")
        #expect(Self.verify(example.body, timestamp: example.timestamp, signature: forged, secret: "", now: now) == .mismatch)
    }

    @Test("A timestamp more than 5 minutes from now is refused, before or after; within, accepted")
    func staleness() {
        let example = Self.ours
        let sent = TimeInterval(example.timestamp)!
        func check(now: TimeInterval) -> SlackSignature.Refusal? {
            Self.verify(example.body, timestamp: example.timestamp, signature: example.signature, secret: example.secret,
                        now: now)
        }
        #expect(check(now: sent + 300) == nil)
        #expect(check(now: sent - 300) == nil)
        #expect(check(now: sent + 301) == .staleTimestamp)
        #expect(check(now: sent - 301) == .staleTimestamp)
        #expect(check(now: sent + 86400) == .staleTimestamp)
        #expect(Self.verify(example.body, timestamp: "soon", signature: example.signature, secret: example.secret,
                            now: sent) == .staleTimestamp)
    }
}
