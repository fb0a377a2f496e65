import Foundation

/// The scripts whose letters pass for Latin ones (Cyrillic `а`, `р`, `ӏ`; Greek `ο`; Armenian
/// `օ`): a host that mixes two of them, as `аррӏе.com` mixes Cyrillic with Latin, is how a
/// look-alike of a known name is made, and worth a word when the bot shows it.
enum LookAlikeScripts {
    /// The look-alike scripts the host of `text` (a name, or a URL's host) mixes, in alphabetical
    /// order (`["Cyrillic", "Latin"]`); empty when its letters are of one script, or of others.
    static func mixed(in text: String) -> [String] {
        var host = Substring(text)
        if let scheme = host.range(of: "://") { host = host[scheme.upperBound...] }
        host = host.prefix { !"/?#".contains($0) }
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        let scripts = Set(host.unicodeScalars.compactMap(script))
        return scripts.count > 1 ? scripts.sorted() : []
    }

    private static func script(_ scalar: Unicode.Scalar) -> String? {
        switch scalar.value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: "Latin"
        case 0x370...0x3FF, 0x1F00...0x1FFF: "Greek"
        case 0x400...0x52F: "Cyrillic"
        case 0x531...0x58F: "Armenian"
        default: nil
        }
    }
}
