extension IndicatorScanner {
    /// An e-mail address at `i`: a local part of letters, digits and `._%+-` (64 at most, no
    /// dot first, last or twice), an at sign (maybe defanged: `[@]`, `[at]`), and a domain
    /// under a public suffix, file-like ones included (`jobs@evil.zip` is an address). Its
    /// domain is reported too. The value is lower case: mail systems ignore the local part's
    /// case in practice, and `Bob@x.com` and `bob@x.com` are one sender to an analyst.
    mutating func email(at i: Int) -> Int? {
        var p = i
        while isLocalPartByte(self[p]) { p += 1 }
        noEmailBefore = p
        let at = atLength(at: p)
        guard at > 0, p - i <= 64, self[p - 1] != UInt8(ascii: "."), isLabelStart(p + at) else { return nil }
        let local = text[i..<p]
        guard !zip(local, local.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") })
        else { return nil }
        return address(localFrom: i, to: p, domainAt: p + at)
    }

    private func isLocalPartByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"): true
        default: byte.isASCIIAlphanumeric
        }
    }

    /// `mailto:` and the address after it (`<mailto:a@b.com|a@b.com>` in Slack is one address:
    /// the label's is the same).
    mutating func mailto(at i: Int) -> Int? {
        guard matches("mailto:", at: i, ignoringCase: true), self[i + 7].isASCIIAlphanumeric else { return nil }
        noEmailBefore = i + 7
        return email(at: i + 7)
    }

    /// Reports the address whose local part is `[start, localEnd)` if a public domain follows.
    /// In `Message-ID`, `In-Reply-To` and `References` headers only the domain is reported: the
    /// rest identifies a message.
    private mutating func address(localFrom start: Int, to localEnd: Int, domainAt domainStart: Int) -> Int? {
        let (host, _) = hostName(at: domainStart)
        guard let host, host.start == domainStart, host.isPublic else { return nil }
        if !isInHeader(["message-id", "in-reply-to", "references"], at: start) {
            let local = String(decoding: text[start..<localEnd], as: UTF8.self).lowercased()
            emit(.email, start: start, end: host.end, value: local + "@" + host.value)
        }
        emit(.domain, start: host.start, end: host.end, value: host.value)
        return host.end
    }
}
