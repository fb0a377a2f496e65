import BenchSupport
import Crypto
import Foundation

/// Signed Events API requests, as Slack sends them to `/slack/events`.
enum Events {
    static let signingSecret = "automator-bench-secret"
    private static let key = SymmetricKey(data: Data(signingSecret.utf8))

    /// A request: its body and the two signature headers.
    struct Signed: Sendable {
        var ts: String
        var body: String
        var timestamp: String
        var signature: String

        /// Its POST to serve's `/slack/events`.
        func request(to port: Int) -> Request {
            .post("/slack/events", to: port, headers: [
                ("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", timestamp),
                ("X-Slack-Signature", signature),
            ], body: body)
        }
    }

    /// A `message` event by alice in `channel` (`D…` is the direct conversation), signed now.
    static func message(_ text: String, ts: String, channel: String, event id: String) -> Signed {
        let kind = channel.hasPrefix("D") ? "im" : "channel"
        let body = #"{"type":"event_callback","team_id":"T0BENCH","api_app_id":"A0BENCH","event_id":"\#(id)","#
            + #""event_time":\#(ts.prefix { $0 != "." }),"event":{"type":"message","channel":"\#(channel)","#
            + #""channel_type":"\#(kind)","user":"\#(LoopbackSlack.user)","text":\#(json(text)),"#
            + #""ts":"\#(ts)","event_ts":"\#(ts)"}}"#
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("v0:\(timestamp):\(body)".utf8), using: key)
        return Signed(ts: ts, body: body, timestamp: timestamp, signature: "v0=" + hex(mac))
    }

    private static func json(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }

    private static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The indicators of the messages: a quarter each IPv4 addresses, domains, MD5s and SHA-256s,
/// half of each in the feed (`bad`) and half not; fixed, so every run sends the same.
struct Indicators {
    static let perKind = 1_000

    var listed: [[String]] = [[], [], [], []]
    var unlisted: [[String]] = [[], [], [], []]

    init() {
        var state: UInt64 = 2024
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func hex(_ digits: Int) -> String {
            (0..<digits / 16).map { _ in
                let text = String(next(), radix: 16)
                return String(repeating: "0", count: 16 - text.count) + text
            }.joined()
        }
        func ipv4() -> String {
            let value = next()
            // 45.0.0.0/8 and 46.0.0.0/8: public, never taken for something else.
            return "\(45 + value % 2).\(value >> 8 & 0xFF).\(value >> 16 & 0xFF).\(1 + (value >> 24) % 254)"
        }
        for list in [\Indicators.listed, \Indicators.unlisted] {
            for number in 0..<Self.perKind {
                self[keyPath: list][0].append(ipv4())
                self[keyPath: list][1].append((list == \Indicators.listed ? "bad" : "fine") + "\(number)-\(hex(16).prefix(6)).com")
                self[keyPath: list][2].append(hex(32))
                self[keyPath: list][3].append(hex(64))
            }
        }
    }

    /// The text of message `number`: one indicator, of kind `number % 4`, listed when
    /// `number / 4` is even.
    func text(_ number: Int) -> String {
        let kind = number % 4
        let lists = (number / 4) % 2 == 0 ? listed : unlisted
        let value = lists[kind][(number / 8) % Self.perKind]
        return ["who is \(value)? it keeps calling out", "did anyone click \(value) today",
                "sample \(value) from the mail gateway", "and this one: \(value)"][kind]
    }

    /// The feed file: every listed indicator with a reason.
    var feed: String {
        listed.enumerated().flatMap { kind, values in
            values.map { "\($0) \(["C2 of the bench campaign", "phishing kit", "loader", "dropper"][kind])" }
        }.joined(separator: "\n") + "\n"
    }
}
