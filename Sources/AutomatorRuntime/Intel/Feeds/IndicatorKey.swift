/// What a feed entry lists, in the form the index stores: addresses as integers, hashes as
/// raw bytes, the rest as normalised text.
enum IndicatorKey: Hashable, Sendable {
    /// An address (prefix length 32) or a network.
    case ipv4(UInt32, prefixLength: UInt8)
    /// An address (prefix length 128) or a network.
    case ipv6(UInt128, prefixLength: UInt8)
    case md5(MD5Key)
    case sha1(SHA1Key)
    case sha256(SHA256Key)
    case sha512(SHA512Key)
    /// A domain, URL, e-mail address or CVE.
    case text(IndicatorType, String)

    var type: IndicatorType {
        switch self {
        case .ipv4: .ipv4
        case .ipv6: .ipv6
        case .md5: .md5
        case .sha1: .sha1
        case .sha256: .sha256
        case .sha512: .sha512
        case .text(let type, _): type
        }
    }

    /// The normalised text: `10.0.0.0/8` for a network, lower-case hex for a hash.
    var text: String {
        switch self {
        case .ipv4(let address, let length):
            IPAddress.text(v4: address) + (length == 32 ? "" : "/\(length)")
        case .ipv6(let address, let length):
            IPAddress.text(v6: address) + (length == 128 ? "" : "/\(length)")
        case .md5(let key): key.hex
        case .sha1(let key): key.hex
        case .sha256(let key): key.hex
        case .sha512(let key): key.hex
        case .text(_, let value): value
        }
    }
}

/// One indicator a feed lists, as loaded: what `Feed.load()` returns.
public struct FeedEntry: Sendable, Hashable, CustomStringConvertible {
    let key: IndicatorKey
    /// Why it is listed: the rest of a text line, a CSV comment column, a STIX indicator's name,
    /// a MISP attribute's comment or its event's info.
    public let comment: String?

    init(_ key: IndicatorKey, comment: String?) {
        self.key = key
        self.comment = comment
    }

    public var type: IndicatorType { key.type }

    /// Normalised: addresses in their canonical form, hashes in lower case, domains in lower
    /// case, a network as `198.51.100.0/24`.
    public var value: String { key.text }

    /// `ipv4 198.51.100.0/24 # comment`.
    public var description: String {
        "\(type.rawValue) \(value)" + (comment.map { " # " + $0 } ?? "")
    }
}
