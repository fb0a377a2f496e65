@testable import AutomatorRuntime
import Foundation
import Testing

@Suite("Secrets blanked out of what a server echoes")
struct SecretConcealerTests {
    static let concealer = SecretConcealer(["ab+c/d=e&f", "s3cr3t-token", ""])

    @Test("An echo in another case, percent-encoded in whole or in part, or JSON-escaped is blanked")
    func forms() {
        let echoes = [
            #"{"got": "Bearer s3cr3t-token"}"#: #"{"got": "Bearer [secret]"}"#,
            #"{"echo_upper": "BEARER S3CR3T-TOKEN"}"#: #"{"echo_upper": "BEARER [secret]"}"#,
            "got_q=Bearer%20ab%2Bc/d%3De%26f": "got_q=Bearer%20[secret]",
            "all=ab%2bc%2fd%3de%26f;": "all=[secret];",
            #"{"key": "ab+c\/d=e&f"}"#: #"{"key": "[secret]"}"#,
        ]
        for (echo, concealed) in echoes { #expect(Self.concealer.conceal(echo) == concealed, "\(echo)") }
        #expect(Self.concealer.conceal("s3cr3 is only a hint") == "s3cr3 is only a hint")
    }

    @Test("A secret under 8 characters is blanked as a whole word only: its characters inside other words stay")
    func shortSecrets() {
        let concealer = SecretConcealer(["xample", "s3cr3t-token"])
        let echoes = [
            #"{"to": ["oncall@example.com"], "n": 2}"#: #"{"to": ["oncall@example.com"], "n": 2}"#,
            "AUTH failed for soc/xample.": "AUTH failed for soc/[secret].",
            #"{"password": "XAMPLE"}"#: #"{"password": "[secret]"}"#,
            "pass=%78ample&x=1": "pass=[secret]&x=1",
            "xamples xample1 éxample": "xamples xample1 éxample",
            "a s3cr3t-tokens b": "a [secret]s b",
        ]
        for (echo, concealed) in echoes { #expect(concealer.conceal(echo) == concealed, "\(echo)") }
        let binary: [UInt8] = [0xff] + Array(" xample example xample1 xample".utf8)
        #expect(concealer.conceal(binary) == [0xff] + Array(" [secret] example xample1 [secret]".utf8))
    }

    @Test("A body that is not text keeps every other byte; one that is text is concealed as text")
    func bodies() {
        let binary: [UInt8] = [0xff, 0x00] + Array("s3cr3t-token".utf8) + [0xfe, 0x80]
        #expect(Self.concealer.conceal(binary) == [0xff, 0x00] + Array("[secret]".utf8) + [0xfe, 0x80])
        #expect(Self.concealer.conceal(Array("x S3CR3T-TOKEN y".utf8)) == Array("x [secret] y".utf8))
        #expect(SecretConcealer([]).conceal([0xff, 0xfe]) == [0xff, 0xfe])
    }
}
