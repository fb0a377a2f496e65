import Foundation

/// The calendar days a window touches in its time zone, in order: where each begins and its
/// date. A store asks each incident's day by its time (`index(of:)`), a binary search in a few
/// comparisons, rather than a calendar's arithmetic for each of a million incidents; and a day
/// the clocks change is 23 or 25 hours long, as the people who worked it lived it.
struct ReportDays: Sendable {
    /// Each day's midnight, in milliseconds since 1970; the first may be before the window's start.
    let starts: [Int64]
    /// Each day's date, `2026-03-29`.
    let dates: [String]

    init(_ window: ReportWindow) {
        let calendar = ReportPeriod.calendar(window.timeZone)
        let dateStyle = Date.ISO8601FormatStyle(timeZone: window.timeZone).year().month().day()
        var starts: [Int64] = []
        var dates: [String] = []
        var day = calendar.startOfDay(for: window.from)
        while day < window.to {
            starts.append(day.millisecondsSince1970)
            dates.append(day.formatted(dateStyle))
            // The next midnight after this one (a calendar always has one).
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        self.starts = starts
        self.dates = dates
    }

    /// The day of `time`, which is in the window: the last that begins at or before it.
    func index(of time: Int64) -> Int {
        var (low, high) = (0, starts.count)
        while high - low > 1 {
            let middle = (low + high) / 2
            if starts[middle] <= time { low = middle } else { high = middle }
        }
        return low
    }
}
