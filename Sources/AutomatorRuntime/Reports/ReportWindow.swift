public import Foundation

/// The time a report covers: from `from` (included) to `to` (excluded), to the second, and the
/// time zone whose calendar days it counts and whose clock its times read (UTC unless given).
///
/// ```swift
/// try ReportWindow(since: "30d")                            // the last 30 days, until now
/// try ReportWindow(from: "2026-03-01", to: "2026-03-31")   // all of March, the 31st included
/// try ReportWindow(period: "last-week", timeZone: ReportWindow.timeZone(named: "Europe/Berlin"))
/// ```
public struct ReportWindow: Sendable, Hashable, Codable {
    public var from: Date
    public var to: Date
    /// Not in the window's JSON: the report's `timezone` says it (`Report+Codable.swift`).
    public var timeZone: TimeZone = .gmt

    private enum CodingKeys: String, CodingKey { case from, to }

    /// The zone's tz database name: `Europe/Berlin`, `UTC`.
    public var timeZoneName: String { timeZone.identifier == "GMT" ? "UTC" : timeZone.identifier }

    /// The longest window, in seconds: a hundred years, as for `--since` (`DurationText.longest`),
    /// rounded up to whole days so that any hundred calendar years fit, leap days and all. A
    /// report has a row for every day of its window: `--from 0001-01-01 --to 9999-12-31` made
    /// 3.65 million of them, 22 s and 296 MB of a server's time and memory for one request.
    public static let longest = (DurationText.longest / 86400).rounded(.up) * 86400

    /// The window as given, to the second. The text initializers keep it within `longest`, and
    /// so must a caller of this one (a schedule's window is a duration, within it already).
    public init(from: Date, to: Date, timeZone: TimeZone = .gmt) {
        self.from = Self.toTheSecond(from)
        self.to = Self.toTheSecond(to)
        self.timeZone = timeZone
    }

    /// The `since` before `now` (`30d`, `12h`, `2w`). A bare number is refused: `--since 7`
    /// meant a week to the one who typed it and made a 7-second report, without a word.
    public init(since: String, timeZone: TimeZone = .gmt, now: Date = Date()) throws(Invalid) {
        if let missingUnit = DurationText.missingUnit("--since", since, likely: "d") { throw Invalid(missingUnit) }
        guard let seconds = DurationText.seconds(since), seconds > 0 else {
            throw Invalid("--since wants \(DurationText.expected), not '\(since)'")
        }
        self.init(lasting: seconds, until: now, timeZone: timeZone)
    }

    /// The `seconds` until `now`, its second included (`untilNow`): what a report made now covers.
    public init(lasting seconds: TimeInterval, until now: Date, timeZone: TimeZone = .gmt) {
        self.init(from: now.addingTimeInterval(-seconds), to: Self.untilNow(now), timeZone: timeZone)
    }

    /// A calendar period of `timeZone` (`ReportPeriod`): `last-week` is Monday 00:00 to Monday
    /// 00:00 before this week's; `this-week` is from this Monday 00:00 until now.
    public init(period: String, timeZone: TimeZone = .gmt, now: Date = Date()) throws(Invalid) {
        guard let period = ReportPeriod(rawValue: period) else {
            throw Invalid("--period wants \(ReportPeriod.names), not '\(period)'")
        }
        self.init(period, timeZone: timeZone, now: now)
    }

    /// `period` of `timeZone` as it is at `now`, ending at `now` at the latest.
    init(_ period: ReportPeriod, timeZone: TimeZone, now: Date) {
        let interval = period.interval(at: now, in: timeZone)
        self.init(from: interval.start, to: min(interval.end, Self.untilNow(now)), timeZone: timeZone)
    }

    /// From `from` to `to`, each a date (`2026-03-01`, read in `timeZone`) or a time in ISO 8601
    /// (`2026-03-01T08:00:00Z`, `2026-03-01T09:00:00+01:00`). A date alone as `to` includes that
    /// day. A missing `to` is `now`.
    public init(from: String, to: String?, timeZone: TimeZone = .gmt, now: Date = Date()) throws(Invalid) {
        guard let start = Self.time(from, endOfDay: false, in: timeZone) else {
            throw Invalid(Self.unreadable("--from", from))
        }
        let end: Date
        if let to {
            guard let time = Self.time(to, endOfDay: true, in: timeZone) else { throw Invalid(Self.unreadable("--to", to)) }
            end = time
        } else {
            end = Self.untilNow(now)
        }
        guard start < end else {
            throw Invalid("the window is empty: --from \(from) is not before --to \(to ?? "now")")
        }
        guard end.timeIntervalSince(start) <= Self.longest else {
            throw Invalid("the window from --from \(from) to --to \(to ?? "now") is longer than 100 years, the longest a "
                + "report covers: move --from or --to closer")
        }
        self.init(from: start, to: end, timeZone: timeZone)
    }

    /// The window that the command line and the API ask for: `since` before now, `from` to `to`,
    /// or a calendar `period`; with none, `fallback` before now. Days and dates are `timeZone`'s.
    public init(since: String?, from: String?, to: String?, period: String? = nil, timeZone: TimeZone = .gmt,
                fallback: String, now: Date = Date()) throws(Invalid)
    {
        if let period {
            guard since == nil, from == nil, to == nil else {
                throw Invalid("give --period or --since or --from, one of them: --period \(period) is a whole window")
            }
            try self.init(period: period, timeZone: timeZone, now: now)
            return
        }
        switch (since, from) {
        case (_?, _?):
            throw Invalid("give --since or --from, not both")
        case (nil, let from?):
            try self.init(from: from, to: to, timeZone: timeZone, now: now)
        case (let since, nil):
            guard to == nil else { throw Invalid("--to goes with --from, as in --from 2026-03-01 --to 2026-03-31") }
            try self.init(since: since ?? fallback, timeZone: timeZone, now: now)
        }
    }

    /// The zone of a tz database name (`Europe/Berlin`, `UTC`). A fixed offset (`UTC+1`, `GMT+2`)
    /// is refused: it knows no summer time, and a Berlin report made with it counts the summer's
    /// days an hour off.
    /// - Parameter option: how the one who wrote `name` calls it, for the error: `--tz`, `tz`.
    public static func timeZone(named name: String, option: String = "--tz") throws(Invalid) -> TimeZone {
        if ["UTC", "GMT"].contains(name.uppercased()) { return .gmt }
        let offset = name.range(of: #"^(UTC|GMT)[+-]"#, options: [.regularExpression, .caseInsensitive]) != nil
        if !offset, let zone = TimeZone(identifier: name) { return zone }
        let known = TimeZone.knownTimeZoneIdentifiers
        // `Berlin` and `new_york` are a place's name without its region.
        let place = known.first { $0.split(separator: "/").last?.lowercased() == name.lowercased() }
        let lowercased = Dictionary(known.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        let meant = place ?? Typo.meant(by: name, among: lowercased.keys).flatMap { lowercased[$0] }
        throw Invalid("\(option) wants a time zone's name from the tz database, such as Europe/Berlin, America/New_York or "
            + "UTC, not '\(name)'" + (meant.map { ": did you mean \($0)?" } ?? "")
            + (offset ? " (a fixed offset knows no summer time: name the place)" : ""))
    }

    /// Why a window could not be read, in words for the command line.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String

        init(_ description: String) { self.description = description }
    }

    private static func unreadable(_ option: String, _ text: String) -> String {
        "\(option) wants a date such as 2026-03-01 or a time such as 2026-03-01T08:00:00Z, not '\(text)'"
    }

    private static func time(_ text: String, endOfDay: Bool, in timeZone: TimeZone) -> Date? {
        // The day's parser takes a longer time's first ten characters as well (a date is ten long),
        // and 2026-02-31 as March 3rd (a date must read back the same).
        let dayStyle = Date.ISO8601FormatStyle(timeZone: timeZone).year().month().day()
        if text.count == 10, let day = try? Date(text, strategy: dayStyle) {
            guard day.formatted(dayStyle) == text else { return nil }
            // The next day's midnight: 23 or 25 hours later on a day the clocks change.
            return endOfDay ? ReportPeriod.calendar(timeZone).date(byAdding: .day, value: 1, to: day) : day
        }
        return (try? Date(text, strategy: Date.ISO8601FormatStyle()))
            ?? (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    /// The end of a window until now: the second after the current one, since `to` is excluded
    /// and whole: an end rounded down to `now`'s second left out what was done in it, a moment ago.
    private static func untilNow(_ now: Date) -> Date {
        toTheSecond(now).addingTimeInterval(1)
    }

    private static func toTheSecond(_ date: Date) -> Date {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
    }
}
