/// A host name as read from the text: where it was written, its normalised value, and what
/// kind of name it is.
struct HostName {
    var start: Int
    var end: Int
    /// Lower case, A-labels, refanged dots.
    var value: String
    /// Under a public suffix of the ICANN list, with a label of its own (`evil.co.uk`, not `co.uk`).
    var isPublic: Bool
    /// Its top-level domain is one of ``PublicSuffixList/fileExtensions``.
    var isFileName: Bool
}

extension IndicatorScanner {
    /// The host name that ends the dotted run of labels at `i`, and where that run ends.
    ///
    /// Labels are ASCII letters, digits, `-`, `_` and non-ASCII letters, 1 to 63 bytes once in
    /// A-label form, not starting or ending with `-`; dots may be defanged. A final `_` is
    /// Markdown's (`_evil.xyz_`), not the name's. A bad label drops
    /// the labels before it (the name is what follows). Whether a name is wanted depends on
    /// where it is, so every well-formed one comes back: two labels or more, 253 bytes at most,
    /// a top-level label of letters or an A-label.
    mutating func hostName(at i: Int) -> (HostName?, runEnd: Int) {
        hostBytes.removeAll(keepingCapacity: true)
        var p = i
        var nameStart = i, nameByte = 0, labels = 0
        var lastLabelByte = 0, lastLabelValid = false
        while true {
            let labelByte = hostBytes.count
            var isASCII = true
            while true {
                let byte = self[p]
                if byte.isASCIIAlphanumeric || byte == UInt8(ascii: "-")
                    || (byte == UInt8(ascii: "_") && (isLabelStart(p + 1) || self[p + 1] == UInt8(ascii: "-")))
                {
                    hostBytes.append(byte.asciiLowercased)
                    p += 1
                } else if case let length = wordScalarLength(at: p), length > 0 {
                    hostBytes.append(contentsOf: text[p..<p + length])
                    p += length
                    isASCII = false
                } else {
                    break
                }
            }
            if !isASCII {
                let label = String(decoding: hostBytes[labelByte...], as: UTF8.self)
                hostBytes.replaceSubrange(labelByte..., with: Punycode.aLabel(label).map { Array($0.utf8) } ?? [])
            }
            let length = hostBytes.count - labelByte
            lastLabelByte = labelByte
            lastLabelValid = (1...63).contains(length) && hostBytes[labelByte] != UInt8(ascii: "-")
                && hostBytes[hostBytes.count - 1] != UInt8(ascii: "-")
            labels = lastLabelValid ? labels + 1 : 0
            let dot = dotLength(at: p)
            guard dot > 0, isLabelStart(p + dot) else { break }
            p += dot
            hostBytes.append(UInt8(ascii: "."))
            if !lastLabelValid {
                nameStart = p
                nameByte = hostBytes.count
            }
        }
        guard lastLabelValid, labels >= 2, hostBytes.count - nameByte <= 253,
            isTopLevelLabel(hostBytes[lastLabelByte...])
        else { return (nil, p) }
        let value = String(decoding: hostBytes[nameByte...], as: UTF8.self)
        let suffixLabels = PublicSuffixList.suffixLabelCount(of: value)
        let topLevel = value[value.utf8.index(after: value.utf8.lastIndex(of: UInt8(ascii: ".")) ?? value.startIndex)...]
        let host = HostName(
            start: nameStart, end: p, value: value, isPublic: suffixLabels > 0 && labels > suffixLabels,
            isFileName: PublicSuffixList.fileExtensions.contains(topLevel))
        return (host, p)
    }

    /// Whether a label starts at `i`: a letter, a digit or `_` (`-` may not start a label).
    func isLabelStart(_ i: Int) -> Bool {
        self[i].isASCIIAlphanumeric || self[i] == UInt8(ascii: "_") || wordScalarLength(at: i) > 0
    }

    /// Letters only, two at least, or an A-label: `com`, `xn--p1ai`; not `4`, `exe1`, `tar_gz`.
    private func isTopLevelLabel(_ label: ArraySlice<UInt8>) -> Bool {
        if label.starts(with: "xn--".utf8) { return label.count > 4 }
        return label.count >= 2 && label.allSatisfy(\.isASCIILetter)
    }

    /// Whether a name is a field, a key or a call rather than a host, as in JSON, queries and
    /// code: `"host.name": "ws01"`, `user.name=jdoe`, `process.name:cmd.exe`,
    /// `process.name == "x"`, `app.run(`; or, anywhere, an Elastic Common Schema field whose
    /// last part is also a top-level domain (`host.name`, `event.id`, `user.email`, `os.family`).
    func isFieldName(start: Int, end: Int, value: String) -> Bool {
        if Self.isSchemaField(value) { return true }
        var p = end
        let quote = self[start - 1]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'"), self[p] == quote {
            p += 1
            while self[p] == UInt8(ascii: " ") { p += 1 }
            return self[p] == UInt8(ascii: ":")
        }
        switch self[p] {
        case UInt8(ascii: "="), UInt8(ascii: "("):
            return true
        case UInt8(ascii: ":"):
            let next = self[p + 1]
            return next.isASCIILetter || next == UInt8(ascii: "\"")
        case UInt8(ascii: " "):
            while self[p] == UInt8(ascii: " ") { p += 1 }
            return (self[p] == UInt8(ascii: "=") || self[p] == UInt8(ascii: "!")) && self[p + 1] == UInt8(ascii: "=")
        default:
            return false
        }
    }

    /// ECS field sets (the first part of a field name), and the top-level domains that field
    /// names end with. `file.io` and `dns.google` stay domains: their last labels are not here.
    private static let schemaFieldSets: Set<Substring> = [
        "agent", "client", "cloud", "container", "destination", "dns", "email", "error", "event", "file", "group",
        "host", "http", "log", "network", "observer", "organization", "os", "package", "process", "registry",
        "related", "rule", "server", "service", "source", "threat", "tls", "url", "user", "user_agent",
        "vulnerability",
    ]
    private static let schemaFieldEnds: Set<Substring> = ["name", "id", "email", "group", "family"]

    private static func isSchemaField(_ name: String) -> Bool {
        let utf8 = name.utf8
        guard let firstDot = utf8.firstIndex(of: UInt8(ascii: ".")), let lastDot = utf8.lastIndex(of: UInt8(ascii: "."))
        else { return false }
        return schemaFieldEnds.contains(name[utf8.index(after: lastDot)...])
            && schemaFieldSets.contains(name[..<firstDot])
    }
}
