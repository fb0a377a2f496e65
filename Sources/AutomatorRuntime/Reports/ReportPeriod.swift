import Foundation

/// A calendar period for `automator report --period`: whole days, ISO weeks (Monday to Sunday)
/// or months of the report's time zone, the last one finished or the one under way.
///
/// What a weekly report to a CISO wants: `--since 7d` on a Monday at 07:00 is seven days and
/// seven hours of eight partial days, and two Mondays' reports overlap; `--period last-week` is
/// the week before, midnight to midnight, whatever the hour the cron job runs.
public enum ReportPeriod: String, Sendable, CaseIterable {
    case today, yesterday
    case thisWeek = "this-week", lastWeek = "last-week"
    case thisMonth = "this-month", lastMonth = "last-month"

    /// `today, yesterday, this-week, …`: what `--period` takes.
    public static let names = allCases.map(\.rawValue).joined(separator: ", ")

    /// The whole period that holds `now` (this) or the one before it (last), in `timeZone`'s
    /// calendar: a day of 23 or 25 hours when the clocks change.
    func interval(at now: Date, in timeZone: TimeZone) -> DateInterval {
        let calendar = Self.calendar(timeZone)
        let unit: Calendar.Component = switch self {
        case .today, .yesterday: .day
        case .thisWeek, .lastWeek: .weekOfYear
        case .thisMonth, .lastMonth: .month
        }
        // Every instant lies in one day, week and month of a calendar.
        let current = calendar.dateInterval(of: unit, for: now)!
        switch self {
        case .today, .thisWeek, .thisMonth: return current
        case .yesterday, .lastWeek, .lastMonth: return calendar.dateInterval(of: unit, for: current.start - 1)!
        }
    }

    /// The ISO 8601 calendar of `timeZone`: weeks start on Monday.
    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        return calendar
    }
}
