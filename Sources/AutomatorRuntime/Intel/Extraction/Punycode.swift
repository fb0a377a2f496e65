/// Punycode (RFC 3492), the encoding direction only: how an IDN label becomes the A-label that
/// DNS, feeds and reputation services use (`bücher` → `xn--bcher-kva`).
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
