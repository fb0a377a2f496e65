import AutomatorRuntime
import Testing

@Suite("Defanging what the bot posts: no link in chat, the same indicators read back")
struct DefangingTests {
    @Test("URLs, domains, IPv4 and e-mail addresses are defanged; hashes, CVEs, IPv6 and the rest stay as written",
          arguments: [
              ("Phish from http://evil.example/login", "Phish from hxxp://evil[.]example/login"),
              ("C2 at 203.0.113.45:443 and evil-login.com", "C2 at 203.0.113[.]45:443 and evil-login[.]com"),
              ("mail alice@evil-login.com now", "mail alice@evil-login[.]com now"),
              ("ftp://files.example.net/x?y#z", "fxp://files.example[.]net/x?y#z"),
              ("twice: 198.51.100.7, 198.51.100.7", "twice: 198.51.100[.]7, 198.51.100[.]7"),
              ("already hxxp://evil[.]example/a", "already hxxp://evil[.]example/a"),
              ("44d88612fea8a8f36de82e1278abb02f CVE-2024-3400 2001:db8::1", "44d88612fea8a8f36de82e1278abb02f CVE-2024-3400 2001:db8::1"),
              ("Reimage the laptop — ünïcödé stays", "Reimage the laptop — ünïcödé stays"),
          ])
    func defangs(text: String, expected: String) {
        let defanged = Defanging.text(text)
        #expect(defanged == expected)
        #expect(Extractor.extract(defanged.utf8).map(\.value) == Extractor.extract(text.utf8).map(\.value),
                "read back as the same indicators")
    }
}
