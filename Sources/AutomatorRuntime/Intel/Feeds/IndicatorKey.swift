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
