import Crypto
import Foundation

/// Slack's request signature: `X-Slack-Signature: v0=HEX`, the HMAC-SHA256 with the signing
/// secret of `v0:{X-Slack-Request-Timestamp}:{raw body}`. A timestamp more than five minutes
/// from now is refused, so a request someone recorded cannot be played again later.
enum SlackSignature {
    /// How far the request's timestamp may be from our clock.
    static let tolerance: TimeInterval = 5 * 60

    /// Why a request was refused; `description` is for the server's log.
    enum Refusal: Error, Equatable, CustomStringConvertible {
        case missingHeaders
        case staleTimestamp
        case mismatch

        var description: String {
            switch self {
            case .missingHeaders: "no X-Slack-Signature or X-Slack-Request-Timestamp header"
            case .staleTimestamp: "its timestamp is more than 5 minutes from this server's clock (is the clock right?)"
            case .mismatch: "its signature does not match: check the signing secret in the configuration"
            }
        }
    }

    /// Checks `signature` over `body`, sent at `timestamp`, as of `now`.
    static func verify(body: [UInt8], timestamp: String?, signature: String?, secret: String, now: Date = Date())
        throws(Refusal)
    {
        guard let timestamp, let signature else { throw .missingHeaders }
        // With no secret anyone could sign; the configuration refuses one, this never accepts it.
        guard !secret.isEmpty else { throw .mismatch }
        guard let seconds = Int64(timestamp), abs(now.timeIntervalSince1970 - TimeInterval(seconds)) <= tolerance
        else { throw .staleTimestamp }
        guard equalInConstantTime(Array(signature.utf8), Array(compute(body: body, timestamp: timestamp, secret: secret).utf8))
        else { throw .mismatch }
    }

    /// `v0=` and the hex HMAC: what Slack sends for `body` at `timestamp`.
    static func compute(body: [UInt8], timestamp: String, secret: String) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: Array(secret.utf8)))
        hmac.update(data: Array("v0:\(timestamp):".utf8))
        hmac.update(data: body)
        return "v0=" + FileHashes.hex(hmac.finalize())
    }

    /// Compares every byte whatever the first difference, so the time taken does not say how
    /// much of a forged signature was right.
    private static func equalInConstantTime(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= given[index] ^ expected[index] }
        return difference == 0
    }
}
