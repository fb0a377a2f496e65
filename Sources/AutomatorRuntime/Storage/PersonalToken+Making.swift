import Crypto
public import Foundation

extension PersonalToken {
    /// A new token for `name`: the secret to hand over once, and the record the store keeps.
    public static func make(name: String, by creator: String, at now: Date = Date(), metricsOnly: Bool = false,
                            ingestOnly: String? = nil) -> (secret: String, token: PersonalToken)
    {
        let secret = newSecret()
        return (secret, PersonalToken(name: name, sha256: digest(of: secret), createdAt: now, createdBy: creator,
                                      metricsOnly: metricsOnly, ingestOnly: ingestOnly))
    }

    /// 32 bytes from the system's cryptographic source, in hexadecimal: a token no one guesses.
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &generator)) }.joined()
    }

    /// The SHA-256 of `secret`, hexadecimal: what the store finds a token by. A plain hash is
    /// enough, unlike for a password: the secret is 256 random bits, with nothing to guess from.
    public static func digest(of secret: String) -> String {
        SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Why `name` cannot name a token, or nil: a name as `chat.roles` writes people and
    /// integrations (`alice`, `siem-connector`, a Matrix id `@alice:example.org`), so that the
    /// roles apply to the token's holder.
    public static func nameProblem(_ name: String) -> String? {
        guard name.wholeMatch(of: /@?[A-Za-z0-9][A-Za-z0-9._\-:]{0,63}/) != nil else {
            return "\(name.isEmpty ? "an empty name" : "\"\(name)\"") cannot name a token: use the person's or the "
                + "integration's name as chat.roles writes it (alice, siem-connector, @alice:example.org): a letter or "
                + "digit (after an optional @), then letters, digits, '.', '_', '-' or ':', 64 at most besides the @"
        }
        return nil
    }
}
