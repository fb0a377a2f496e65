import Foundation

/// The indicator a value is as a whole, in normal form (`hxxp://evil[.]example/x` is the URL
/// `http://evil.example/x`): what verdicts and incidents are looked up by.
///
/// The values asked about are mostly those `intel.extract` has just given, already normal, and
/// each is asked several times for one chat message (its verdict, the incidents that mention it),
/// each time scanned again. So what extraction gave is remembered, and a value remembered is
/// answered without a scan. Extraction is idempotent (a value it gives is, read again, that same
/// indicator: `NormalFormsTests`), so the answer is the scan's. A few hundred values are kept,
/// the latest: those of the messages in flight.
public enum NormalForms {
    /// The indicator `text` is, as a whole, once trimmed (`203.0.113.7`, `hxxps://evil[.]com/x`,
    /// a hash), in normal form; nil when it is none, or more than one.
    public static func indicator(_ text: String) -> (type: IndicatorType, value: String)? {
        if let known = recent.withLock({ $0.values[text] }) { return known }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let found = Extractor.extract(Array(trimmed.utf8))
        guard let whole = found.first(where: { $0.start == 0 && $0.end == trimmed.utf8.count }) else { return nil }
        remember([whole])
        return (whole.type, whole.value)
    }

    /// Keeps the values of `found`, each the normal form of itself.
    static func remember(_ found: [ExtractedIndicator]) {
        guard !found.isEmpty else { return }
        recent.withLock { recent in
            for each in found.prefix(capacity) {
                if recent.values.count >= capacity { recent.values.removeAll(keepingCapacity: true) }
                recent.values[each.value] = (each.type, each.value)
            }
        }
    }

    /// Forgets what was remembered: for tests that compare a scan with the memory.
    static func forget() { recent.withLock { $0.values.removeAll() } }

    private struct Recent {
        var values: [String: (type: IndicatorType, value: String)] = [:]
    }

    /// Emptied when full: cheaper than ordering by age, and the values asked again are a
    /// message's, remembered again by its extraction.
    private static let capacity = 512
    private static let recent = Locked(Recent())
}
