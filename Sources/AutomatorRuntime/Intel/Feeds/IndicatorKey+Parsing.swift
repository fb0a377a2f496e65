/// A value a feed gives, read and normalised the way extraction normalises what it finds, so a
/// lookup compares like with like: IPs and hashes become numbers and bytes (any text form is
/// read), domains and e-mail domains lower case, URLs a lower-case scheme and host, CVEs upper
/// case.
extension IndicatorKey {
    /// What a value may be, from its source's type field.
    enum Expectation: Sendable, Hashable {
        /// Detected from the value (a text line, a CSV row without a type).
        case any
        /// IPv4 or IPv6, an address or a network.
        case ip
        /// MD5, SHA-1, SHA-256 or SHA-512, by length.
        case hash
        case only(IndicatorType)

        /// A type name as CSV columns and MISP give it; nil when not an indicator type.
        init?(name: String) {
            let name = name.lowercased()
            if let type = IndicatorType(rawValue: name) {
                self = .only(type)
                return
            }
            switch name {
            case "": self = .any
            case "ip", "ip-src", "ip-dst", "cidr": self = .ip
            case "hostname", "fqdn": self = .only(.domain)
            case "hash": self = .hash
            case "email-src", "email-dst": self = .only(.email)
            case "vulnerability": self = .only(.cve)
            default: return nil
            }
        }

        /// The names `init(name:)` takes, for messages.
        static let names = IndicatorType.allCases.map(\.rawValue) + ["ip", "ip-src", "ip-dst", "cidr", "hostname",
                                                                    "fqdn", "hash", "email-src", "email-dst",
                                                                    "vulnerability"]
    }

    /// Why a value was refused; the message says what to write instead.
    struct Refusal: Error, Sendable {
        var message: String
    }

    /// Reads `value` (already trimmed).
    ///
    /// - Throws: what is wrong and what to write instead.
    static func parse(_ value: UnsafeBufferPointer<UInt8>,
                      as expected: Expectation) throws(Refusal) -> IndicatorKey {
        switch expected {
        case .any: try detect(value)
        case .ip: try ip(value)
        case .hash: try hash(value)
        case .only(let type): try parse(value, as: type)
        }
    }

    static func parse(_ value: String, as expected: Expectation) throws(Refusal) -> IndicatorKey {
        var value = value
        return try value.withUTF8 { bytes in Result { () throws(Refusal) in try parse(bytes, as: expected) } }.get()
    }

    private static func parse(_ value: UnsafeBufferPointer<UInt8>,
                              as type: IndicatorType) throws(Refusal) -> IndicatorKey {
        let key = switch type {
        case .ipv4, .ipv6: try ip(value)
        case .md5, .sha1, .sha256, .sha512: try hash(value)
        case .domain: try IndicatorKey.text(.domain, domain(value))
        case .url: try IndicatorKey.text(.url, url(value))
        case .email: try IndicatorKey.text(.email, email(value))
        case .cve: try IndicatorKey.text(.cve, cve(value))
        }
        guard key.type == type else {
            throw Refusal(message: "\(quoted(value)) is \(article(key.type)) \(key.type.rawValue), not \(article(type)) "
                + "\(type.rawValue): correct the value or its type")
        }
        return key
    }

    /// URL if it has `://`, CVE if it starts so, IPv6 if it has a colon, e-mail if an `@`, a hash
    /// if it is 32, 40, 64 or 128 hex digits, IPv4 if only digits, dots and a slash, else a domain.
    private static func detect(_ value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> IndicatorKey {
        var colon = false
        var at = false
        var hex = true
        var numeric = true
        for byte in value {
            colon = colon || byte == UInt8(ascii: ":")
            at = at || byte == UInt8(ascii: "@")
            hex = hex && Hex.digit(byte) < 16
            numeric = numeric && (byte &- UInt8(ascii: "0") < 10 || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "/"))
        }
        if find("://", in: value) != nil { return try .text(.url, url(value)) }
        if value.count > 4, value.prefix(4).map({ $0 | 0x20 }) == Array("cve-".utf8) { return try .text(.cve, cve(value)) }
        if colon { return try ip(value) }
        if at { return try .text(.email, email(value)) }
        if hex, [32, 40, 64, 128].contains(value.count) { return try hash(value) }
        if numeric { return try ip(value) }
        do throws(Refusal) {
            return try .text(.domain, domain(value))
        } catch {
            throw Refusal(message: "\(quoted(value)) is not an IP address, network, domain, URL, e-mail address, "
                + "hash or CVE: \(error.message)")
        }
    }

    /// An address, or a network as `address/length` with no host bits set.
    private static func ip(_ value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> IndicatorKey {
        let slash = value.firstIndex(of: UInt8(ascii: "/"))
        let address = UnsafeBufferPointer(rebasing: value[..<(slash ?? value.count)])
        var length: Int?
        if let slash {
            let digits = value[(slash + 1)...]
            guard (1...3).contains(digits.count), digits.allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else {
                throw Refusal(message: "\(quoted(value)) has no prefix length after the slash: write address/length")
            }
            length = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        }
        if let v4 = IPAddress.v4(address) {
            let length = try prefixLength(length, of: value, width: 32)
            let mask: UInt32 = length == 0 ? 0 : .max << (32 - length)
            guard v4 & ~mask == 0 else { throw hostBits(value, network: IPAddress.text(v4: v4 & mask), length) }
            return .ipv4(v4, prefixLength: UInt8(length))
        }
        if let v6 = IPAddress.v6(address) {
            let length = try prefixLength(length, of: value, width: 128)
            let mask: UInt128 = length == 0 ? 0 : .max << (128 - length)
            guard v6 & ~mask == 0 else { throw hostBits(value, network: IPAddress.text(v6: v6 & mask), length) }
            return .ipv6(v6, prefixLength: UInt8(length))
        }
        throw Refusal(message: "\(quoted(value)) is not an IPv4 or IPv6 address or network "
            + "(198.51.100.7, 198.51.100.0/24, 2001:db8::1, 2001:db8::/32)")
    }

    private static func prefixLength(_ length: Int?, of value: UnsafeBufferPointer<UInt8>,
                                     width: Int) throws(Refusal) -> Int {
        guard let length else { return width }
        guard length <= width else {
            throw Refusal(message: "the prefix length of \(quoted(value)) must be 0 to \(width)")
        }
        return length
    }

    /// A network written with host bits is ambiguous (a typo for the address, or for the
    /// network?), and matching the wider one could allowlist or flag far too much.
    private static func hostBits(_ value: UnsafeBufferPointer<UInt8>, network: String, _ length: Int) -> Refusal {
        let address = String(decoding: value.prefix { $0 != UInt8(ascii: "/") }, as: UTF8.self)
        let host = address.contains(":") ? "128" : "32"
        return Refusal(message: "\(quoted(value)) has host bits set: write \(network)/\(length) for the network, "
            + "or \(address)/\(host) for the address")
    }

    private static func hash(_ value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> IndicatorKey {
        let key: IndicatorKey? = switch value.count {
        case MD5Key.hexLength: MD5Key(hex: value).map(IndicatorKey.md5)
        case SHA1Key.hexLength: SHA1Key(hex: value).map(IndicatorKey.sha1)
        case SHA256Key.hexLength: SHA256Key(hex: value).map(IndicatorKey.sha256)
        case SHA512Key.hexLength: SHA512Key(hex: value).map(IndicatorKey.sha512)
        default: nil
        }
        guard let key else {
            throw Refusal(message: "\(quoted(value)) is not an MD5, SHA-1, SHA-256 or SHA-512 hash "
                + "(32, 40, 64 or 128 hex digits)")
        }
        return key
    }

    /// Lower case, without a final dot; labels of letters, digits, `-` and `_` (which real
    /// host names have), at least two, the last not all digits. An internationalised name
    /// (`bücher.example`) becomes its A-labels (`xn--bcher-kva.example`), as the extractor
    /// writes it, so the two match.
    static func domain(_ value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> String {
        guard value.contains(where: { $0 >= 0x80 }) else { return try asciiDomain(value, as: value) }
        guard var name = Punycode.aLabels(of: String(decoding: value, as: UTF8.self)) else {
            throw Refusal(message: "\(quoted(value)) is not a domain name: it has punctuation, symbols or spaces "
                + "that are not ASCII")
        }
        return try name.withUTF8 { name in Result { () throws(Refusal) in try asciiDomain(name, as: value) } }.get()
    }

    /// `domain(_:)` of an ASCII `name`, which is `value` as written (for messages).
    private static func asciiDomain(_ name: UnsafeBufferPointer<UInt8>,
                                    as value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> String {
        let name = name.last == UInt8(ascii: ".") ? UnsafeBufferPointer(rebasing: name.dropLast()) : name
        if let byte = name.first(where: { !isLabelByte($0) && $0 != UInt8(ascii: ".") }) {
            throw Refusal(message: "\(quoted(value)) is not a domain name: it has \(quoted(byte))")
        }
        let labels = name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard name.count <= 253, labels.count >= 2, labels.allSatisfy({ (1...63).contains($0.count) }),
              !labels[labels.count - 1].allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) else {
            throw Refusal(message: "\(quoted(value)) is not a domain name (two or more labels of 1 to 63 letters, "
                + "digits or hyphens, the last not all digits)")
        }
        return lowercased(name)
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- UInt8(ascii: "a") < 26 || byte &- UInt8(ascii: "0") < 10
            || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// `scheme://host...` with the scheme and host in lower case, the rest as written.
    private static func url(_ value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> String {
        guard let separator = find("://", in: value), separator > 0,
              (value[0] | 0x20) &- UInt8(ascii: "a") < 26,
              value[..<separator].allSatisfy({ isLabelByte($0) && $0 != UInt8(ascii: "_")
                  || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: ".") })
        else {
            throw Refusal(message: "\(quoted(value)) is not a URL: write scheme://host/path")
        }
        guard !value.contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw Refusal(message: "\(quoted(value)) has spaces or control characters: percent-encode them (%20)")
        }
        guard value.count <= StringTable.maximumLength else {
            throw Refusal(message: "the URL is longer than \(StringTable.maximumLength) bytes")
        }
        let authorityStart = separator + 3
        let authorityEnd = value[authorityStart...].firstIndex {
            $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#")
        } ?? value.count
        let hostStart = value[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")).map { $0 + 1 }
            ?? authorityStart
        guard hostStart < authorityEnd else {
            throw Refusal(message: "\(quoted(value)) has no host: write scheme://host/path")
        }
        return String(unsafeUninitializedCapacity: value.count) { buffer in
            for index in value.indices {
                let lower = index < separator || (hostStart..<authorityEnd).contains(index)
                buffer[index] = lower ? asciiLowercased(value[index]) : value[index]
            }
            return value.count
        }
    }

    /// `local@domain`, all lower case, as `Extractor` writes addresses (mail systems ignore the
    /// local part's case in practice), so that a feed's address matches one found in text.
    private static func email(_ value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> String {
        guard let at = value.lastIndex(of: UInt8(ascii: "@")), at > 0,
              !value[..<at].contains(where: { $0 <= 0x20 || $0 == 0x7F }) else {
            throw Refusal(message: "\(quoted(value)) is not an e-mail address: write local@domain")
        }
        let domain = try domain(UnsafeBufferPointer(rebasing: value[(at + 1)...]))
        return String(decoding: value[...at], as: UTF8.self).lowercased() + domain
    }

    /// `CVE-YYYY-NNNN...`, upper case.
    private static func cve(_ value: UnsafeBufferPointer<UInt8>) throws(Refusal) -> String {
        let text = String(decoding: value, as: UTF8.self).uppercased()
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "CVE", parts[1].count == 4, parts[2].count >= 4,
              (parts[1] + parts[2]).allSatisfy(\.isASCII), (parts[1] + parts[2]).allSatisfy(\.isNumber) else {
            throw Refusal(message: "\(quoted(value)) is not a CVE id: write CVE-2024-12345")
        }
        return text
    }

    // MARK: Bytes

    private static func find(_ needle: StaticString, in value: UnsafeBufferPointer<UInt8>) -> Int? {
        let needle = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard value.count >= needle.count else { return nil }
        return (0...(value.count - needle.count)).first { start in
            (0..<needle.count).allSatisfy { value[start + $0] == needle[$0] }
        }
    }

    @inline(__always)
    static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte &- UInt8(ascii: "A") < 26 ? byte | 0x20 : byte
    }

    private static func lowercased(_ value: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: value.count) { buffer in
            for index in value.indices { buffer[index] = asciiLowercased(value[index]) }
            return value.count
        }
    }

    /// The value for a message: quoted, cut at 80 characters.
    static func quoted(_ value: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: value.prefix(80), as: UTF8.self)
        return "\"" + text + (value.count > 80 ? "..." : "") + "\""
    }

    private static func quoted(_ byte: UInt8) -> String {
        byte >= 0x21 && byte < 0x7F
            ? "\"" + String(UnicodeScalar(byte)) + "\""
            : "the byte 0x" + Hex.text(UInt64(byte), digits: 2)
    }

    private static func article(_ type: IndicatorType) -> String {
        switch type {
        case .ipv4, .ipv6, .email, .md5, .sha1, .sha256, .sha512: "an"
        case .domain, .url, .cve: "a"
        }
    }
}
