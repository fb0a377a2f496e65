/// A count as a person reads it: the noun singular for one, plural for any other number.
///
/// ```swift
/// 1.counted("entry", "entries")  // "1 entry"
/// 3.counted("run")               // "3 runs"
/// ```
extension BinaryInteger {
    /// The number and `singular`, or `plural` (`singular` + "s" when not given) unless it is one.
    package func counted(_ singular: String, _ plural: String? = nil) -> String {
        "\(self) " + (self == 1 ? singular : plural ?? singular + "s")
    }
}
