@testable import AutomatorRuntime
import Testing

@Suite("Normal forms: a value extraction gave is that indicator again, from memory or by a scan", .serialized)
struct NormalFormsTests {
    /// Texts with every kind of indicator, written as people and tools write them.
    static let texts = [
        "C2 at hxxp://evil[.]com/a from 10.1.2.3, mail from John.Doe+invoice@Evil.COM about CVE-2021-44228",
        "\u{FF12}\u{FF10}\u{FF13}.0.113.45 and hxxp://evil\u{00AD}-login\u{2060}[.]com/reset\u{FEFF} and ev\u{200C}il\u{200D}.com",
        "2001:DB8:0:0:0:0:0:1 and fe80::1%eth0 and [2001:db8::7]:8443",
        "https://User@Evil.Example.COM:8080/Path?Q=1#frag, and (https://evil.com/a).",
        "xn--80ak6aa92e.com and аррӏе.com and https://xn--80ak6aa92e.com/login",
        "44D88612FEA8A8F36DE82E1278ABB02F 3395856CE81F2B7382DEE72602F798B642F14140 "
            + "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F",
        "https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil-pay.com%2Flogin%3Fid%3D7&data=05%7C01",
        "https://urldefense.com/v3/__https://evil-pay.com/login__;!!ABC$ and mailto:Bob@Evil.com?subject=hi",
        "<https://wiki.example.org/x|the runbook, see 198.51.100.7 or 44d88612fea8a8f36de82e1278abb02f>",
        "https://r.example.com/?u=http://evil.com/x and evil [.] com and 203.0.113[.]45",
    ]

    @Test("A value extraction gives is, read again alone, that same indicator (what the memory relies on)",
          arguments: texts)
    func idempotent(_ text: String) {
        let found = Extractor.extract(text.utf8)
        #expect(!found.isEmpty)
        for each in found {
            NormalForms.forget()
            let again = NormalForms.indicator(each.value)
            #expect(again?.type == each.type && again?.value == each.value, "\(each.type) \(each.value)")
        }
    }

    @Test("Values remembered from an extraction are answered as a scan answers them")
    func remembered() throws {
        let text = Self.texts.joined(separator: "\n")
        NormalForms.forget()
        let scanned = Extractor.extract(text.utf8).map { NormalForms.indicator($0.value).map { "\($0.type) \($0.value)" } }
        NormalForms.forget()
        NormalForms.remember(Extractor.extract(text.utf8))
        let fromMemory = Extractor.extract(text.utf8).map { NormalForms.indicator($0.value).map { "\($0.type) \($0.value)" } }
        #expect(fromMemory == scanned)
        // Written otherwise, a value is still normalised; no indicator, or two, is none.
        #expect(NormalForms.indicator(" hxxps://Evil[.]com/x\n").map { "\($0.type) \($0.value)" } == "url https://evil.com/x")
        #expect(NormalForms.indicator("not an indicator") == nil)
        #expect(NormalForms.indicator("10.1.2.3 10.1.2.4") == nil)
    }
}
