import Foundation

/// Punycode (RFC 3492): how an IDN label becomes the A-label that DNS, feeds and reputation
/// services use (`bücher` → `xn--bcher-kva`), and back, for people to read what a name says.
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
    private static let initialBias = 72, initialN = 128

    /// `label` as an A-label: lower-cased, then `xn--` and its Punycode; nil if it overflows
    /// (a label of thousands of characters, which no DNS name can hold anyway).
    static func aLabel(_ label: String) -> String? {
        let scalars = label.lowercased().unicodeScalars.map(\.value)
        guard let encoded = encode(scalars) else { return nil }
        return "xn--" + String(decoding: encoded, as: UTF8.self)
    }

    /// `name` with each label that is not ASCII as its A-label (`Bücher.example` →
    /// `xn--bcher-kva.example`), the ASCII labels as they are; nil when a label has a character
    /// the extractor ends a name at (punctuation, symbols, spaces), or cannot be encoded.
    static func aLabels(of name: String) -> String? {
        var labels: [String] = []
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.utf8.allSatisfy({ $0 < 0x80 }) {
                labels.append(String(label))
                continue
            }
            guard label.unicodeScalars.allSatisfy({ $0.isASCII || $0.isWordLike }),
                  let aLabel = aLabel(String(label)) else { return nil }
            labels.append(aLabel)
        }
        return labels.joined(separator: ".")
    }

    /// `text` (a name, a URL) with each A-label in it as the Unicode it encodes
    /// (`xn--80ak6aa92e.com` → `аррӏе.com`); nil when it has none, or one that does not decode.
    static func uLabels(of text: String) -> String? {
        var decodedAny = false
        var parts: [String] = []
        var rest = Substring(text)
        while let start = rest.range(of: "xn--", options: .caseInsensitive) {
            let before = rest[..<start.lowerBound]
            // An A-label starts a label: after a dot, a scheme's `//`, userinfo's `@`, or at the start.
            guard before.last.map({ "./@".contains($0) }) ?? true else {
                parts.append(String(rest[..<start.upperBound]))
                rest = rest[start.upperBound...]
                continue
            }
            let label = rest[start.upperBound...].prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            guard let scalars = decode(Array(label.utf8)) else { return nil }
            parts.append(String(before))
            parts.append(String(String.UnicodeScalarView(scalars)))
            rest = rest[label.endIndex...]
            decodedAny = true
        }
        parts.append(String(rest))
        return decodedAny ? parts.joined() : nil
    }

    /// RFC 3492 section 6.2, with its overflow checks: the code points of a label's Punycode
    /// (what follows `xn--`); nil if it is malformed or encodes only ASCII.
    static func decode(_ input: [UInt8]) -> [Unicode.Scalar]? {
        let delimiter = input.lastIndex(of: UInt8(ascii: "-"))
        var output: [UInt32] = delimiter.map { input[..<$0].map(UInt32.init) } ?? []
        guard output.allSatisfy({ $0 < 0x80 }) else { return nil }
        var p = delimiter.map { $0 + 1 } ?? 0
        var n = initialN, i = 0, bias = initialBias
        while p < input.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard p < input.count, let digit = value(of: input[p]) else { return nil }
                p += 1
                let (step, overflow) = digit.multipliedReportingOverflow(by: w)
                guard !overflow, i <= Int(Int32.max) - step else { return nil }
                i += step
                let t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias
                if digit < t { break }
                guard w <= Int(Int32.max) / (base - t) else { return nil }
                w *= base - t
                k += base
            }
            let points = output.count + 1
            bias = adapt(i - oldI, points: points, first: oldI == 0)
            guard i / points <= Int(Int32.max) - n else { return nil }
            n += i / points
            i %= points
            guard n >= 0x80, Unicode.Scalar(UInt32(n)) != nil else { return nil }
            output.insert(UInt32(n), at: i)
            i += 1
        }
        guard output.contains(where: { $0 >= 0x80 }) else { return nil }
        return output.compactMap(Unicode.Scalar.init)
    }

    /// A Punycode digit's value: `a`-`z` 0 to 25, `0`-`9` 26 to 35, either case.
    private static func value(of byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): Int(byte - UInt8(ascii: "a"))
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): Int(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0")) + 26
        default: nil
        }
    }

    /// RFC 3492 section 6.3, with its overflow checks.
    static func encode(_ input: [UInt32]) -> [UInt8]? {
        var output: [UInt8] = input.filter { $0 < 0x80 }.map { UInt8($0) }
        let basicCount = output.count
        var handled = basicCount
        if basicCount > 0 { output.append(UInt8(ascii: "-")) }
        var n = initialN, delta = 0, bias = initialBias
        while handled < input.count {
            guard let next = input.lazy.map({ Int($0) }).filter({ $0 >= n }).min() else { return nil }
            let (step, overflow) = (next - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - step else { return nil }
            delta += step
            n = next
            for scalar in input.lazy.map({ Int($0) }) {
                if scalar < n {
                    delta += 1
                    guard delta <= Int(Int32.max) else { return nil }
                }
                guard scalar == n else { continue }
                var q = delta
                var k = base
                while true {
                    let t = k <= bias ? tMin : k >= bias + tMax ? tMax : k - bias
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, points: handled + 1, first: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return output
    }

    private static func digit(_ value: Int) -> UInt8 {
        value < 26 ? UInt8(ascii: "a") + UInt8(value) : UInt8(ascii: "0") + UInt8(value - 26)
    }

    private static func adapt(_ delta: Int, points: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / points
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
