extension IndicatorScanner {
    /// Whether the line holding offset `i` is an e-mail header named one of `names` (compared
    /// without case): `Message-ID: <…@mail.evil.com>` names a message, not a mailbox, and in
    /// `X-Mailer: Foxmail 7.2.25.228` a dotted number is a version. Looks back 512 bytes at most.
    func isInHeader(_ names: [StaticString], at i: Int) -> Bool {
        var start = i
        while start > 0, i - start < 512, text[start - 1] != UInt8(ascii: "\n") { start -= 1 }
        return names.contains { name in
            matches(name, at: start, ignoringCase: true) && self[start + name.utf8CodeUnitCount] == UInt8(ascii: ":")
        }
    }
}
