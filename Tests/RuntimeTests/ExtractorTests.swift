@testable import AutomatorRuntime
import Glibc
import Testing

@Suite("Indicator extraction: types, defanging, normalisation, hard negatives")
struct ExtractorTests {
    /// `"type value"` for each indicator found, in order.
    private static func found(_ text: String) -> [String] {
        Extractor.extract(text.utf8).map { "\($0.type.rawValue) \($0.value)" }
    }

    private static func indicator(_ type: IndicatorType, _ value: String, _ start: Int, _ end: Int) -> ExtractedIndicator {
        ExtractedIndicator(type: type, value: value, start: start, end: end)
    }

    // MARK: Offsets, order, deduplication

    @Test("Offsets are those of the text as written, defanged forms included")
    func offsets() {
        #expect(Extractor.extract("C2 at hxxp://evil[.]com/a from 10.1.2.3".utf8) == [
            Self.indicator(.url, "http://evil.com/a", 6, 25),
            Self.indicator(.domain, "evil.com", 13, 23),
            Self.indicator(.ipv4, "10.1.2.3", 31, 39),
        ])
        #expect(Extractor.extract("mail Bob[at]Evil[.]com, cve-2021-44228.".utf8) == [
            Self.indicator(.email, "bob@evil.com", 5, 22),
            Self.indicator(.domain, "evil.com", 12, 22),
            Self.indicator(.cve, "CVE-2021-44228", 24, 38),
        ])
    }

    @Test("Invisible characters and look-alike dots and digits hide nothing; offsets stay those of the text")
    func lookAlikes() {
        // A zero-width space (3 bytes) inside; the offsets cover it.
        #expect(Extractor.extract("C2 203.0.113\u{200B}.45 seen".utf8) == [Self.indicator(.ipv4, "203.0.113.45", 3, 18)])
        // Ideographic full stops (3 bytes each), a fullwidth one, a halfwidth one.
        #expect(Extractor.extract("203\u{3002}0\u{FF0E}113\u{FF61}45".utf8) == [Self.indicator(.ipv4, "203.0.113.45", 0, 18)])
        #expect(Self.found("\u{FF12}\u{FF10}\u{FF13}.0.113.45") == ["ipv4 203.0.113.45"], "fullwidth digits")
        #expect(Self.found("hxxp://evil\u{00AD}-login\u{2060}[.]com/reset\u{FEFF}") == [
            "url http://evil-login.com/reset", "domain evil-login.com",
        ], "a soft hyphen, a word joiner, a byte order mark")
        #expect(Self.found("ev\u{200C}il\u{200D}.com") == ["domain evil.com"], "zero-width non-joiner and joiner")
        #expect(Self.found("plain text, é and 日本語。 no indicator") == [])
    }

    @Test("Between words of Thai, Lao, Myanmar or Khmer, a zero-width space separates them, as a space does")
    func wordSeparatingZeroWidthSpace() {
        // Thai: "block" ZWSP the domain ZWSP "now"; "found" ZWSP the address ZWSP "at the server".
        #expect(Self.found("บล็อก\u{200B}evil.com\u{200B}ทันที") == ["domain evil.com"])
        #expect(Self.found("พบ\u{200B}203.0.113.45\u{200B}ที่เซิร์ฟเวอร์") == ["ipv4 203.0.113.45"])
        #expect(Extractor.extract("ดู\u{200B}evil.com".utf8) == [Self.indicator(.domain, "evil.com", 9, 17)],
                "offsets still those of the text")
        #expect(Self.found("ບລັອກ\u{200B}evil.com") == ["domain evil.com"], "Lao")
        #expect(Self.found("ပိတ်\u{200B}evil.com") == ["domain evil.com"], "Myanmar")
        #expect(Self.found("evil.com\u{200B}ឥឡូវ") == ["domain evil.com"], "Khmer")
        // Between Latin characters it still hides nothing, whatever text is around.
        #expect(Self.found("ทันที evil\u{200B}.com และ 203.0.113\u{200B}.45") == ["domain evil.com", "ipv4 203.0.113.45"])
    }

    @Test("Each (type, value) once, where it first appears; the same value as another type stays")
    func deduplication() {
        #expect(Extractor.extract("see evil.com and EVIL.com and evil[.]com then 1.2.3.4, 1.2.3[.]4".utf8) == [
            Self.indicator(.domain, "evil.com", 4, 12),
            Self.indicator(.ipv4, "1.2.3.4", 46, 53),
        ])
        #expect(Self.found("http://evil.com/ and evil.com and http://evil.com/") == ["url http://evil.com/", "domain evil.com"])
    }

    @Test("Non-contiguous collections give the same result")
    func anyCollection() {
        let text = "beacon to hxxps://evil[.]com/gate.php from 2001:db8::1"
        #expect(Extractor.extract(text.utf8.lazy.map { $0 }) == Extractor.extract(Array(text.utf8)))
        #expect(Extractor.extract([UInt8]()) == [])
    }

    // MARK: Defanged forms

    @Test(
        "Defanged forms are refanged, in any case",
        arguments: [
            ("evil[.]com", ["domain evil.com"]),
            ("evil(.)com", ["domain evil.com"]),
            ("evil{.}com", ["domain evil.com"]),
            ("evil[dot]com", ["domain evil.com"]),
            ("evil[DOT]com", ["domain evil.com"]),
            ("evil(dot)co[.]uk", ["domain evil.co.uk"]),
            ("hxxp://evil.com/a", ["url http://evil.com/a", "domain evil.com"]),
            ("hXXps://evil.com/a", ["url https://evil.com/a", "domain evil.com"]),
            ("https[:]//evil.com/a", ["url https://evil.com/a", "domain evil.com"]),
            ("hxxp[://]evil.com", ["url http://evil.com", "domain evil.com"]),
            ("hxxp://evil[.]com/file[.]php", ["url http://evil.com/file.php", "domain evil.com"]),
            ("user[@]evil.com", ["email user@evil.com", "domain evil.com"]),
            ("user[at]evil[dot]com", ["email user@evil.com", "domain evil.com"]),
            ("user(AT)evil.com", ["email user@evil.com", "domain evil.com"]),
            ("1.2.3[.]4", ["ipv4 1.2.3.4"]),
            ("1[.]2[.]3[.]4", ["ipv4 1.2.3.4"]),
            ("1(.)2(.)3(.)4", ["ipv4 1.2.3.4"]),
            // Spaced, as some write them in prose; one space on each side, and only bracketed.
            ("evil [.] com", ["domain evil.com"]),
            ("evil [dot] co (.) uk", ["domain evil.co.uk"]),
            ("hxxp://bad [.] com/x", ["url http://bad.com/x", "domain bad.com"]),
            ("bob [at] evil [.] com", ["email bob@evil.com", "domain evil.com"]),
            ("1.2.3 [.] 4", ["ipv4 1.2.3.4"]),
            ("evil . com", []),
            ("evil  [.]  com", []),
            ("see [.] below", []),
        ])
    func defanged(text: String, expected: [String]) {
        #expect(Self.found(text) == expected)
    }

    // MARK: IPv4

    @Test(
        "IPv4: four octets of 0 to 255 without leading zeros, whatever their range",
        arguments: [
            ("10.1.2.3", ["ipv4 10.1.2.3"]),
            ("0.0.0.0 and 255.255.255.255", ["ipv4 0.0.0.0", "ipv4 255.255.255.255"]),
            ("src=192.168.1.10,dst=8.8.8.8:53", ["ipv4 192.168.1.10", "ipv4 8.8.8.8"]),
            ("10.0.0.1-10.0.0.255", ["ipv4 10.0.0.1", "ipv4 10.0.0.255"]),
            ("[1.2.3.4] (5.6.7.8). 9.9.9.9/24", ["ipv4 1.2.3.4", "ipv4 5.6.7.8", "ipv4 9.9.9.9"]),
            ("192.168.1.1.nip.io", ["domain 192.168.1.1.nip.io"]),
        ])
    func ipv4(text: String, expected: [String]) {
        #expect(Self.found(text) == expected)
    }

    @Test(
        "Not IPv4: out of range, zero-padded, too many parts, glued to words, versions",
        arguments: [
            "256.1.1.1", "1.2.3.256", "01.2.3.4", "1.02.3.4", "1.2.3.4.5", "1.3.6.1.4.1.311", "1.2.3",
            "v1.2.3.4", "1.2.3.4-beta", "version 1.2.3.4", "Version: 5.1.2.3", "ver. 2.0.0.1", "build 1.0.0.12",
            "firmware 2.0.0.1", "\"agent_version\": \"7.1.0.3\"", "AgentVersion=7.1.0.3",
            "Chrome/120.0.0.0 Safari/537.36", "X-Mailer: Foxmail 7.2.25.228", "a1.2.3.4",
        ])
    func notIPv4(text: String) {
        #expect(Self.found(text) == [])
    }

    // MARK: IPv6

    @Test(
        "IPv6 is reported in RFC 5952 form",
        arguments: [
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("fe80::1%eth0", "fe80::1"),
            ("::1", "::1"),
            ("2001:db8::", "2001:db8::"),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
            ("0:0:0:0:0:ffff:c000:0201", "::ffff:192.0.2.1"),
            ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
            ("[2001:db8::1]:443", "2001:db8::1"),
        ])
    func ipv6(text: String, address: String) {
        #expect(Self.found(text) == ["ipv6 \(address)"])
    }

    @Test(
        "Not IPv6: MAC addresses, timestamps, names with ::, too many groups or colons",
        arguments: [
            "00:1a:2b:3c:4d:5e", "00:1A:2B:3C:4D:5E:6F:70", "12:30:45", "at 09:14:22 +0000", "Data::Dumper",
            "dead::beef", "::", "1:2:3:4:5:6:7:8:9", "1::2::3", "2001:db8:::1", "12345::1", "2021-01-01T12:30:45Z",
        ])
    func notIPv6(text: String) {
        #expect(Self.found(text) == [])
    }

    // MARK: Domains

    @Test(
        "Domains: lower case, A-labels, under a real public suffix",
        arguments: [
            ("EVIL.COM", ["domain evil.com"]),
            ("login.evil.co.uk", ["domain login.evil.co.uk"]),
            ("bücher.de", ["domain xn--bcher-kva.de"]),
            ("BÜCHER.de", ["domain xn--bcher-kva.de"]),
            ("пример.рф", ["domain xn--e1afmkfd.xn--p1ai"]),
            ("xn--bcher-kva.de", ["domain xn--bcher-kva.de"]),
            ("1-2-3-4.dyn.isp.com", ["domain 1-2-3-4.dyn.isp.com"]),
            ("a.b.kawasaki.jp", ["domain a.b.kawasaki.jp"]),
            ("_evil-cdn.xyz_ and *evil.top*", ["domain evil-cdn.xyz", "domain evil.top"]),
        ])
    func domains(text: String, expected: [String]) {
        #expect(Self.found(text) == expected)
    }

    @Test(
        "Not domains: file names, internal names, bare suffixes, field names and calls",
        arguments: [
            "invoice.pdf", "setup.exe", "kernel32.dll", "README.md", "payload.zip", "install.sh", "setup.py",
            "Utils.pm", "main.rs", "libc.so", "main.tf", "clip.mov", "Main.java", "id_rsa.pub", "Invoice.one",
            "archive.tar.gz", "C:\\Windows\\System32\\kernel32.dll", "dc01.corp.local", "fs02.ad.internal",
            "printer.lan", "build7.corp", "nas.home", "co.uk", "com", "b.kawasaki.jp", "4.3.2.1.in-addr.arpa",
            "e.g. i.e.", "\"host.name\": \"ws01\"", "user.name=jdoe", "process.name:cmd.exe",
            "process.name == \"x\"", "app.run(debug)", "host.name", "event.id", "os.family",
        ])
    func notDomains(text: String) {
        #expect(Self.found(text) == [])
    }

    @Test("File-like suffixes are domains in a URL or an e-mail address")
    func fileLikeSuffixesInContext() {
        #expect(Self.found("payload.zip http://evil.zip/a jobs@careers.mov") == [
            "url http://evil.zip/a", "domain evil.zip", "email jobs@careers.mov", "domain careers.mov",
        ])
    }

    @Test("Punycode (RFC 3492) turns IDN labels into A-labels")
    func punycode() {
        #expect(Punycode.aLabel("bücher") == "xn--bcher-kva")
        #expect(Punycode.aLabel("München") == "xn--mnchen-3ya")
        #expect(Punycode.aLabel("例え") == "xn--r8jz45g")
        #expect(Punycode.aLabel("παράδειγμα") == "xn--hxajbheg2az3al")
        #expect(Punycode.aLabel("faß") == "xn--fa-hia")
    }

    @Test("Public suffixes: longest rule, wildcards, exceptions; unknown top-level domains are none")
    func publicSuffixes() {
        #expect(PublicSuffixList.suffixLabelCount(of: "evil.com") == 1)
        #expect(PublicSuffixList.suffixLabelCount(of: "evil.co.uk") == 2)
        #expect(PublicSuffixList.suffixLabelCount(of: "a.b.kawasaki.jp") == 3)
        #expect(PublicSuffixList.suffixLabelCount(of: "city.kawasaki.jp") == 2)
        #expect(PublicSuffixList.suffixLabelCount(of: "dc01.corp.local") == 0)
        #expect(PublicSuffixList.suffixLabelCount(of: "bucher.xn--p1ai") == 1)
    }

    // MARK: URLs

    @Test(
        "URLs: scheme and host normalised, the rest kept; the host reported too",
        arguments: [
            ("HTTP://Evil.COM/Path?Q=1", ["url http://evil.com/Path?Q=1", "domain evil.com"]),
            ("http://bücher.de/ä", ["url http://xn--bcher-kva.de/ä", "domain xn--bcher-kva.de"]),
            ("http://bücher.example/x", ["url http://xn--bcher-kva.example/x"]),
            ("http://[2001:DB8::0:1]:8080/x", ["url http://[2001:db8::1]:8080/x", "ipv6 2001:db8::1"]),
            ("https://1.2.3.4:8443/a", ["url https://1.2.3.4:8443/a", "ipv4 1.2.3.4"]),
            ("http://user:pw@evil.com:81/p?q=1#f", ["url http://user:pw@evil.com:81/p?q=1#f", "domain evil.com"]),
            ("ftp://files.evil.org/a sftp://evil.net", [
                "url ftp://files.evil.org/a", "domain files.evil.org", "url sftp://evil.net", "domain evil.net",
            ]),
            ("http://intranet.corp.local/payroll", ["url http://intranet.corp.local/payroll"]),
            ("\"http:\\/\\/evil.com\\/a\\/b\"", ["url http://evil.com/a/b", "domain evil.com"]),
            ("http://evil.com/?a=1&amp;b=2", ["url http://evil.com/?a=1&b=2", "domain evil.com"]),
            ("http://localhost:8080/ https://intranet/ http://evil", []),
            ("www.evil.com/path/file.exe", ["domain www.evil.com"]),
        ])
    func urls(text: String, expected: [String]) {
        #expect(Self.found(text) == expected)
    }

    @Test(
        "Wrapping brackets, quotes and sentence punctuation are not part of a URL; balanced parentheses are",
        arguments: [
            ("(see https://en.wikipedia.org/wiki/Sudo_(command)).", "https://en.wikipedia.org/wiki/Sudo_(command)"),
            ("[text](https://evil.com/a)", "https://evil.com/a"),
            ("\"https://evil.com/a\",", "https://evil.com/a"),
            ("'https://evil.com/a'.", "https://evil.com/a"),
            ("<https://evil.com/a>", "https://evil.com/a"),
            ("**https://evil.com/a**", "https://evil.com/a"),
            ("Go to https://evil.com/a?", "https://evil.com/a"),
            ("“https://evil.com/a”", "https://evil.com/a"),
            ("&lt;https://evil.com/a&gt;", "https://evil.com/a"),
            ("https://evil.com/a,b;c!", "https://evil.com/a,b;c"),
            ("[https://evil.com/x[1]]", "https://evil.com/x[1]"),
        ])
    func urlBoundaries(text: String, url: String) {
        #expect(Self.found(text).first == "url \(url)")
    }

    @Test("A URL's path is scanned: hashes, CVE identifiers, addresses and URLs it carries")
    func urlPaths() {
        let sha256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
        #expect(Self.found("https://www.virustotal.com/gui/file/\(sha256)/detection") == [
            "url https://www.virustotal.com/gui/file/\(sha256)/detection", "domain www.virustotal.com",
            "sha256 \(sha256)",
        ])
        #expect(Self.found("https://nvd.nist.gov/vuln/detail/CVE-2021-44228") == [
            "url https://nvd.nist.gov/vuln/detail/CVE-2021-44228", "domain nvd.nist.gov", "cve CVE-2021-44228",
        ])
        #expect(Self.found("https://r.example.com/?u=http://evil.com/x") == [
            "url https://r.example.com/?u=http://evil.com/x", "domain r.example.com", "url http://evil.com/x",
            "domain evil.com",
        ])
    }

    @Test("Slack markup: <link|label> gives the link, and what the label names besides, each once")
    func slack() {
        #expect(Extractor.extract("<http://x.com/a|x.com/a> and <mailto:A@B.com|a@b.com> and <https://evil.com>".utf8) == [
            Self.indicator(.url, "http://x.com/a", 1, 15),
            Self.indicator(.domain, "x.com", 8, 13),
            Self.indicator(.email, "a@b.com", 37, 44),
            Self.indicator(.domain, "b.com", 39, 44),
            Self.indicator(.url, "https://evil.com", 59, 75),
            Self.indicator(.domain, "evil.com", 67, 75),
        ])
        #expect(Self.found("<https://evil.com/a|https://other.com/b>")
            == ["url https://evil.com/a", "domain evil.com", "url https://other.com/b", "domain other.com"])
        #expect(Self.found("<https://wiki.example.org/x|the runbook, see 198.51.100.7 or 44d88612fea8a8f36de82e1278abb02f>")
            == ["url https://wiki.example.org/x", "domain wiki.example.org", "ipv4 198.51.100.7",
                "md5 44d88612fea8a8f36de82e1278abb02f"])
    }

    // MARK: E-mail

    @Test(
        "E-mail addresses: lower case, their domain reported too",
        arguments: [
            ("John.Doe+invoice@Evil.COM", ["email john.doe+invoice@evil.com", "domain evil.com"]),
            ("mailto:Bob@Evil.com?subject=hi", ["email bob@evil.com", "domain evil.com"]),
            ("From: \"Billing\" <billing@pay-evil.co.uk>", ["email billing@pay-evil.co.uk", "domain pay-evil.co.uk"]),
            ("Message-ID: <a1b2.c3@mail.evil.com>", ["domain mail.evil.com"]),
            ("admin@corp.local", []),
            ("icon@2x.png lodash@4.17.21 @evil.com user@ a..b@evil.com", ["domain evil.com"]),
        ])
    func emails(text: String, expected: [String]) {
        #expect(Self.found(text) == expected)
    }

    // MARK: Hashes and CVE

    @Test(
        "Hashes: whole hex runs of 32, 40, 64 and 128 digits, lower case",
        arguments: [
            (32, IndicatorType.md5), (40, .sha1), (64, .sha256), (128, .sha512),
        ])
    func hashes(length: Int, type: IndicatorType) {
        let hex = String(String(repeating: "0123456789ABCDEF", count: 8).prefix(length))
        #expect(Self.found("md5:\(hex), sha256_\(hex).exe") == ["\(type.rawValue) \(hex.lowercased())"])
    }

    @Test(
        "Not hashes: other lengths, longer runs, runs glued to letters, UUIDs",
        arguments: [
            String(repeating: "a", count: 31), String(repeating: "a", count: 33), String(repeating: "b", count: 48),
            String(repeating: "c", count: 41), String(repeating: "d", count: 65), "0x" + String(repeating: "e", count: 40),
            "g" + String(repeating: "f", count: 32), "550e8400-e29b-41d4-a716-446655440000",
        ])
    func notHashes(text: String) {
        #expect(Self.found(text) == [])
    }

    @Test(
        "Links rewritten by mail gateways give the link inside them, at their place",
        arguments: [
            ("https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil-pay.com%2Flogin%3Fid%3D7&data=05%7C01&reserved=0",
             ["url https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil-pay.com%2Flogin%3Fid%3D7&data=05%7C01&reserved=0",
              "domain nam02.safelinks.protection.outlook.com", "url https://evil-pay.com/login?id=7", "domain evil-pay.com"]),
            ("https://urldefense.proofpoint.com/v2/url?u=https-3A__evil-2Dpay.com_login&d=DwMF",
             ["url https://urldefense.proofpoint.com/v2/url?u=https-3A__evil-2Dpay.com_login&d=DwMF",
              "domain urldefense.proofpoint.com", "url https://evil-pay.com/login", "domain evil-pay.com"]),
            ("https://urldefense.com/v3/__https://evil-pay.com/login__;!!ABC$",
             ["url https://urldefense.com/v3/__https://evil-pay.com/login__;!!ABC$", "domain urldefense.com",
              "url https://evil-pay.com/login", "domain evil-pay.com"]),
            // A v3 link with characters the gateway replaced: left as written.
            ("https://urldefense.com/v3/__https://evil-pay.com/a*b__;Kg!!ABC$",
             ["url https://urldefense.com/v3/__https://evil-pay.com/a*b__;Kg!!ABC$", "domain urldefense.com",
              "url https://evil-pay.com/a*b__;Kg!!ABC$", "domain evil-pay.com"]),
            // Safe Links around URL Defense.
            ("https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.com%2Fv3%2F__http%3A%2F%2F203.0.113.9%2Fx__%3B!!A%24",
             ["url https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.com%2Fv3%2F__http%3A%2F%2F203.0.113.9%2Fx__%3B!!A%24",
              "domain eur01.safelinks.protection.outlook.com", "url https://urldefense.com/v3/__http://203.0.113.9/x__;!!A$",
              "domain urldefense.com", "url http://203.0.113.9/x", "ipv4 203.0.113.9"]),
        ])
    func rewrittenLinks(text: String, expected: [String]) {
        #expect(Self.found(text) == expected)
        // What a link carries is where the link is written; the gateway's host where it is.
        let found = Extractor.extract(text.utf8)
        guard !text.contains("*") else { return }  // not unwrapped: each at its own place
        #expect(found.enumerated().allSatisfy { $0.offset == 1 || ($0.element.start == 0 && $0.element.end == text.utf8.count) },
                "\(found)")
    }

    @Test("A SHA-1 is not read as an MD5 inside it")
    func hashInsideLongerRun() {
        let sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        #expect(Self.found(sha1.uppercased()) == ["sha1 \(sha1)"])
    }

    @Test(
        "CVE identifiers: any case in, upper case out",
        arguments: [
            ("CVE-2021-44228", ["cve CVE-2021-44228"]),
            ("cve-2014-0160.", ["cve CVE-2014-0160"]),
            ("(CVE-2024-1234567)", ["cve CVE-2024-1234567"]),
            ("CVE-2021-123 CVE-21-44228 CVE-2021-44228x xCVE-2021-44228", []),
        ])
    func cves(text: String, expected: [String]) {
        #expect(Self.found(text) == expected)
    }

    // MARK: Any bytes, linear time

    @Test("Invalid UTF-8, NULs and control bytes are separators, never a crash")
    func anyBytes() {
        var bytes: [UInt8] = [0xFF, 0xC0, 0x80, 0]
        bytes += Array("evil.com".utf8) + [0xE2, 0x82] + Array("1.2.3.4".utf8) + [0, 0xF4, 0x90, 0x80, 0x80]
        bytes += Array("x.com".utf8) + [0xED, 0xA0, 0x80]
        #expect(Extractor.extract(bytes).map(\.value) == ["evil.com", "1.2.3.4", "x.com"])
        for length in 0..<64 {
            _ = Extractor.extract((0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
        }
    }

    @Test(
        "Pathological inputs take linear time",
        arguments: ["a.", "a+", "1:", "1.", "ab", "http://a.co/", "a@", "[.]a", "x" + String(repeating: "0", count: 31) + "."])
    func linearTime(unit: String) {
        /// The CPU time of this process, fastest of five: wall time counted the other processes' turns
        /// on a busy machine, which fall more often into a long extraction than into a short one, and
        /// made 4x the input take 11x the time under load though the work was linear.
        func seconds(_ count: Int) -> Double {
            let text = Array(String(repeating: unit, count: count).utf8)
            // clock(), not clock_gettime: timespec's fields count as CNIOLinux's where another file of
            // the module imports SwiftNIO, and this file would have to import it too.
            func cpu() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }
            return (0..<5).map { _ in
                let start = cpu()
                _ = Extractor.extract(text)
                return cpu() - start
            }.min()!
        }
        let count = 40_000 / unit.utf8.count
        let small = seconds(count), large = seconds(count * 4)
        #expect(large < max(small, 0.01) * 10, "4x the input took \(large / small)x the time")
    }
}
