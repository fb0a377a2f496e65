import Foundation

/// Plain-text lists: one indicator per line, its type detected.
///
/// ```
/// # Spamhaus-style: the rest of a line is the entry's comment
/// 198.51.100.0/24 ; SBL000001
/// 2001:db8::/32
/// evil.example        phishing kit
/// 44d88612fea8a8f36de82e1278abb02f  # EICAR
/// ```
///
/// Blank lines and lines starting with `#` or `;` are skipped. After the value (up to the
/// first space or tab), the rest of the line, less a leading `#` or `;`, is the comment.
enum TextFeedParser {
    static func parse(_ bytes: [UInt8], file: String, problems: inout ProblemLog, emit: (FeedEntry) -> Void) {
        bytes.withUnsafeBufferPointer { all in
            var start = all.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
            var line = 0
            while start < all.count {
                line += 1
                let end = memchr(all.baseAddress! + start, 0x0A, all.count - start)
                    .map { all.baseAddress!.distance(to: $0.assumingMemoryBound(to: UInt8.self)) } ?? all.count
                defer { start = end + 1 }
                let text = trimmed(UnsafeBufferPointer(rebasing: all[start..<end]))
                guard let first = text.first, first != UInt8(ascii: "#"), first != UInt8(ascii: ";") else { continue }
                let valueEnd = text.firstIndex { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") } ?? text.count
                var rest = trimmed(UnsafeBufferPointer(rebasing: text[valueEnd...]))
                if rest.first == UInt8(ascii: "#") || rest.first == UInt8(ascii: ";") {
                    rest = trimmed(UnsafeBufferPointer(rebasing: rest.dropFirst()))
                }
                do throws(IndicatorKey.Refusal) {
                    let key = try IndicatorKey.parse(UnsafeBufferPointer(rebasing: text[..<valueEnd]), as: .any)
                    emit(FeedEntry(key, comment: rest.isEmpty ? nil : String(decoding: rest, as: UTF8.self)))
                } catch {
                    problems.append(FeedProblem(file: file, line: line, message: error.message))
                }
            }
        }
    }

    /// Without the spaces, tabs and carriage return around it.
    static func trimmed(_ text: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        guard let first = text.firstIndex(where: { !isSpace($0) }) else {
            return UnsafeBufferPointer(rebasing: text[0..<0])
        }
        let last = text.lastIndex { !isSpace($0) }!
        return UnsafeBufferPointer(rebasing: text[first...last])
    }
}
