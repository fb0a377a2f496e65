import Foundation

extension Date {
    /// Milliseconds since 1970, as the stores keep times.
    var millisecondsSince1970: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    init(millisecondsSince1970 milliseconds: Int64) {
        self.init(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The same time, kept to the millisecond, so that what a store gives back equals what it
    /// was given.
    var roundedToMilliseconds: Date { Date(millisecondsSince1970: millisecondsSince1970) }
}
