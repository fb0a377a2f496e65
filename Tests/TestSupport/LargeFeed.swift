import Foundation

/// A text feed large enough that loading it takes seconds: `first`, then `count` lines of
/// addresses, domains, SHA-256 digests and URLs, as large feeds mix them (about 35 bytes a line).
public enum LargeFeed {
    public static func text(_ count: Int, first: String) -> String {
        var text = first
        text.reserveCapacity(count * 48)
        for line in 0..<count {
            switch line % 4 {
            case 0: text += "10.\(line >> 16 & 255).\(line >> 8 & 255).\(line & 255)\n"
            case 1: text += "host\(line).example.com\n"
            case 2: text += String(repeating: String(format: "%08x", line), count: 8) + "\n"
            default: text += "http://cdn\(line).example.net/p/\(line)\n"
            }
        }
        return text
    }
}
