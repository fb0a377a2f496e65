/// Finds indicators of compromise in text: IP addresses, domains, URLs, e-mail addresses,
/// hashes and CVE identifiers, written plainly or defanged (`hxxp://evil[.]com`).
///
/// A hand-written scanner over the UTF-8 bytes rather than regular expressions: one pass with
/// bounded look-ahead, so the time is linear in the input whatever it holds (invalid UTF-8,
/// NULs, megabyte lines), and a few hundred megabytes a second on ordinary text.
///
/// ```swift
/// let found = Extractor.extract("C2 at hxxp://evil[.]com/a from 10.1.2.3".utf8)
/// // url "http://evil.com/a" (6..<25), domain "evil.com" (13..<23), ipv4 "10.1.2.3" (31..<39)
/// ```
///
/// What counts, and what does not (file names, internal names, versions, MAC addresses,
/// timestamps), is described on each part of ``IndicatorScanner``.
public enum Extractor {
    /// The indicators in `text`, in order of appearance, each `(type, value)` once (where it
    /// first appears).
    public static func extract(_ text: some Collection<UInt8>) -> [ExtractedIndicator] {
        if let found = text.withContiguousStorageIfAvailable(indicators) { return found }
        return Array(text).withUnsafeBufferPointer(indicators)
    }

    /// Characters that hide an indicator from the scanner (`LookAlikeCharacters`) are taken out
    /// first, in a copy, only for a text that holds some.
    private static func indicators(in text: UnsafeBufferPointer<UInt8>) -> [ExtractedIndicator] {
        guard let replaced = LookAlikeCharacters(text) else { return IndicatorScanner.indicators(in: text) }
        return replaced.bytes.withUnsafeBufferPointer { IndicatorScanner.indicators(in: $0) }
            .map { replaced.inOriginal($0, of: text) }
    }
}
