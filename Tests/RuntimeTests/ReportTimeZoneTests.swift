@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// Reports in a time zone: its calendar days (23 and 25 hours long when the clocks change), its
/// calendar periods, its dates and times; the scheduled chat report's time of day there.
@Suite("Reports in a time zone: days of 23 and 25 hours, calendar periods, the scheduled report's time")
struct ReportTimeZoneTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!

    /// `2026-03-29T22:30:00Z`.
    static func utc(_ text: String) -> Date { try! Date(text, strategy: Date.ISO8601FormatStyle()) }

    /// Incidents around Berlin's change to summer time (Sunday 2026-03-29, 02:00 CET → 03:00 CEST)
    /// and back (Sunday 2026-10-25, 03:00 CEST → 02:00 CET); their local times in the comments.
    static let incidents: [Incident] = [
        // 2026-03-27 23:30 CET: the day before the window.
        Incident(id: IncidentID(1), title: "1", type: "phishing", severity: .low, status: .new,
                 createdAt: utc("2026-03-27T22:30:00Z")),
        // 2026-03-28 00:30 CET, closed 2026-03-30 00:00 CEST; due 2026-03-29 14:00 CEST: 10 h late.
        Incident(id: IncidentID(2), title: "2", type: "phishing", severity: .high, status: .closed,
                 createdAt: utc("2026-03-27T23:30:00Z"), closedAt: utc("2026-03-29T22:00:00Z"),
                 slaDueAt: utc("2026-03-29T12:00:00Z"), slaBreachedAt: utc("2026-03-29T12:00:00Z")),
        // 2026-03-29 23:30 CEST: the 23-hour day's last hour.
        Incident(id: IncidentID(3), title: "3", type: "malware", severity: .high, status: .new,
                 createdAt: utc("2026-03-29T21:30:00Z")),
        // 2026-03-30 00:30 CEST: 47.5 hours after the window's start, yet on its third day.
        Incident(id: IncidentID(4), title: "4", type: "malware", severity: .high, status: .new,
                 createdAt: utc("2026-03-29T22:30:00Z")),
        // 2026-03-30 23:59:59 CEST, and 2026-03-31 00:00 CEST, after the window.
        Incident(id: IncidentID(5), title: "5", type: "malware", severity: .medium, status: .new,
                 createdAt: utc("2026-03-30T21:59:59Z")),
        Incident(id: IncidentID(6), title: "6", type: "malware", severity: .medium, status: .new,
                 createdAt: utc("2026-03-30T22:00:00Z")),
        // 2026-10-25 00:30 CEST and 23:30 CET: one day of 25 hours.
        Incident(id: IncidentID(7), title: "7", type: "access", severity: .low, status: .new,
                 createdAt: utc("2026-10-24T22:30:00Z")),
        Incident(id: IncidentID(8), title: "8", type: "access", severity: .low, status: .new,
                 createdAt: utc("2026-10-25T22:30:00Z")),
    ]

    @Test("Berlin's days: 23 and 25 hours when the clocks change, dates read there, times said with their offset",
          arguments: StoreUnderTest.allCases)
    func daysAcrossTheClockChanges(_ kind: StoreUnderTest) async throws {
        let open = try await kind.opener()
        let store = try #require(try await open() as? any ReportStore)
        for incident in Self.incidents { try await store.write(.createIncident(incident)) }
        let now = Self.utc("2026-11-01T00:00:00Z")

        // March 28 to 30, Berlin: from midnight CET to midnight CEST, 71 hours.
        let spring = try ReportWindow(from: "2026-03-28", to: "2026-03-30", timeZone: Self.berlin, now: now)
        #expect(spring.from == Self.utc("2026-03-27T23:00:00Z") && spring.to == Self.utc("2026-03-30T22:00:00Z"))
        let report = try await store.report(spring, at: now)
        // The 28th: INC-2. The 29th (23 hours): INC-3. The 30th: INC-4 and INC-5, and INC-2's closing.
        #expect(report.days == [Report.Day(date: "2026-03-28", opened: 1, closed: 0),
                                Report.Day(date: "2026-03-29", opened: 1, closed: 0),
                                Report.Day(date: "2026-03-30", opened: 2, closed: 1)])
        #expect(report.window.timeZone == Self.berlin)
        // The same dates in UTC are other days: INC-3 and INC-4 on the 29th with INC-2's closing;
        // INC-5 and INC-6 on the 30th; INC-2 opened the 27th.
        let utc = try await store.report(try ReportWindow(from: "2026-03-28", to: "2026-03-30", now: now), at: now)
        #expect(utc.days.map(\.opened) == [0, 2, 2] && utc.days.map(\.closed) == [0, 1, 0])

        // October 25th, Berlin: one day of 25 hours, both its incidents on it.
        let autumn = try ReportWindow(from: "2026-10-25", to: "2026-10-25", timeZone: Self.berlin, now: now)
        #expect(autumn.to.timeIntervalSince(autumn.from) == 25 * 3600)
        #expect(try await store.report(autumn, at: now).days == [Report.Day(date: "2026-10-25", opened: 2, closed: 0)])

        // Every time says its zone; the JSON names it, and its times stay UTC.
        let markdown = ReportFormat.markdown.render(report)
        #expect(markdown.hasPrefix("# Automator report\n\n2026-03-28 00:00 +01:00 to 2026-03-31 00:00 +02:00 "
            + "(Europe/Berlin), made 2026-11-01 01:00 +01:00.\n"), "\(markdown)")
        #expect(markdown.contains("| Day (Europe/Berlin) | Opened | Closed |\n"))
        #expect(markdown.contains("| INC-2 | phishing | high | 2026-03-29 14:00 +02:00 | 2026-03-30 00:00 +02:00 | 10h |\n"),
                "\(markdown)")
        let csv = ReportFormat.csv.render(report)
        #expect(csv.contains("window,,from,2026-03-28T00:00:00+01:00\r\nwindow,,to,2026-03-31T00:00:00+02:00\r\n"
            + "window,,timezone,Europe/Berlin\r\n"), "\(csv)")
        let json = ReportJSON.encode(report)
        #expect(json.contains(#""timezone" : "Europe/Berlin""#) && json.contains(#""from" : "2026-03-27T23:00:00Z""#))
        #expect(try ReportJSON.decode(json) == report)
        await store.close()
        withExtendedLifetime(open) {}
    }

    @Test("Calendar periods: ISO weeks Monday to Monday, months, days, in the zone; this one ends now")
    func periods() throws {
        let now = Self.utc("2026-03-30T05:00:00Z")  // Monday 07:00 CEST, the cron job's time
        func window(_ period: String, _ zone: TimeZone = Self.berlin) throws(ReportWindow.Invalid) -> ReportWindow {
            try ReportWindow(period: period, timeZone: zone, now: now)
        }
        let untilNow = now.addingTimeInterval(1)
        // The week before: Monday 23 March 00:00 CET to Monday 30 March 00:00 CEST, 167 hours.
        let lastWeek = try window("last-week")
        #expect(lastWeek.from == Self.utc("2026-03-22T23:00:00Z") && lastWeek.to == Self.utc("2026-03-29T22:00:00Z"))
        #expect(ReportDays(lastWeek).dates == (23...29).map { "2026-03-\($0)" })
        #expect(try window("this-week") == ReportWindow(from: Self.utc("2026-03-29T22:00:00Z"), to: untilNow,
                                                        timeZone: Self.berlin))
        #expect(try window("last-month") == ReportWindow(from: Self.utc("2026-01-31T23:00:00Z"),
                                                         to: Self.utc("2026-02-28T23:00:00Z"), timeZone: Self.berlin))
        #expect(try window("this-month").from == Self.utc("2026-02-28T23:00:00Z"))
        #expect(try window("yesterday") == ReportWindow(from: Self.utc("2026-03-28T23:00:00Z"),
                                                        to: Self.utc("2026-03-29T22:00:00Z"), timeZone: Self.berlin))
        #expect(try window("today").from == Self.utc("2026-03-29T22:00:00Z"))
        // In UTC the week is UTC's.
        #expect(try window("last-week", .gmt) == ReportWindow(from: Self.utc("2026-03-23T00:00:00Z"),
                                                              to: Self.utc("2026-03-30T00:00:00Z")))

        func refusal(_ body: () throws -> Void) -> String {
            do { try body() } catch { return "\(error)" }
            return "accepted"
        }
        #expect(refusal { _ = try window("lastweek") }
            == "--period wants today, yesterday, this-week, last-week, this-month, last-month, not 'lastweek'")
        #expect(refusal {
            _ = try ReportWindow(since: "7d", from: nil, to: nil, period: "last-week", fallback: "30d", now: now)
        } == "give --period or --since or --from, one of them: --period last-week is a whole window")
        #expect(refusal { _ = try ReportWindow.timeZone(named: "Berlin") } == "--tz wants a time zone's name from the tz "
            + "database, such as Europe/Berlin, America/New_York or UTC, not 'Berlin': did you mean Europe/Berlin?")
        #expect(refusal { _ = try ReportWindow.timeZone(named: "europe/berlin") }.hasSuffix("did you mean Europe/Berlin?"))
        #expect(refusal { _ = try ReportWindow.timeZone(named: "UTC+1") }.hasSuffix(
            "not 'UTC+1' (a fixed offset knows no summer time: name the place)"))
        #expect(try ReportWindow.timeZone(named: "UTC") == .gmt)
    }

    @Test("The scheduled report: daily_at in chat.report.tz, 23 or 25 hours apart when the clocks change")
    func schedule() throws {
        let schedule = ReportSchedule(channel: "#soc", minuteOfDay: 8 * 60, window: .lasting(7 * 86400), timeZone: Self.berlin)
        // 08:00 CET is 07:00 UTC; the next day, 08:00 CEST is 06:00 UTC.
        #expect(schedule.next(after: Self.utc("2026-03-28T06:00:00Z")) == Self.utc("2026-03-28T07:00:00Z"))
        #expect(schedule.next(after: Self.utc("2026-03-28T07:00:00Z")) == Self.utc("2026-03-29T06:00:00Z"))
        #expect(schedule.last(atOrBefore: Self.utc("2026-03-29T05:59:00Z")) == Self.utc("2026-03-28T07:00:00Z"))
        #expect(schedule.last(atOrBefore: Self.utc("2026-03-29T06:00:00Z")) == Self.utc("2026-03-29T06:00:00Z"))
        #expect(schedule.next(after: Self.utc("2026-10-24T06:00:00Z")) == Self.utc("2026-10-25T07:00:00Z"))
        // 02:30 does not happen on 29 March in Berlin: the report goes out at 03:30 CEST.
        var skipped = schedule
        skipped.minuteOfDay = 2 * 60 + 30
        #expect(skipped.next(after: Self.utc("2026-03-28T23:00:00Z")) == Self.utc("2026-03-29T01:30:00Z"))

        let folder = try ScratchFolder()
        func read(_ report: String) throws(ConfigurationError) -> ReportSchedule? {
            let path = folder.path + "/automator.yml"
            try! "chat:\n  report:\n\(report)".write(toFile: path, atomically: true, encoding: .utf8)
            return try ChatConfiguration(file: path).report
        }
        let configured = try read("    channel: \"#soc\"\n    daily_at: \"08:00\"\n    tz: Europe/Berlin\n")
        #expect(configured?.timeZone == Self.berlin && configured?.minuteOfDay == 480)
        #expect(try read("    channel: \"#soc\"\n    daily_at: \"08:00\"\n")?.timeZone == .gmt)
        do {
            _ = try read("    channel: \"#soc\"\n    daily_at: \"08:00\"\n    tz: Berlin\n")
            Issue.record("tz: Berlin was accepted")
        } catch {
            #expect("\(error)".contains("chat.report.tz: tz wants a time zone's name from the tz database, such as "
                + "Europe/Berlin, America/New_York or UTC, not 'Berlin': did you mean Europe/Berlin?"), "\(error)")
        }
    }

    @Test("The scheduled report's window: the time before it, or a calendar period of its zone, midnight to midnight")
    func scheduleWindow() throws {
        let folder = try ScratchFolder()
        func read(window: String) throws(ConfigurationError) -> ReportSchedule? {
            let path = folder.path + "/automator.yml"
            let report = "    channel: \"#soc\"\n    daily_at: \"08:00\"\n    tz: Europe/Berlin\n    window: \(window)\n"
            try! "chat:\n  report:\n\(report)".write(toFile: path, atomically: true, encoding: .utf8)
            return try ChatConfiguration(file: path).report
        }
        #expect(try read(window: "7d")?.window == .lasting(7 * 86400))
        let daily = try #require(try read(window: "yesterday"))
        #expect(daily.window == .period(.yesterday))
        #expect(try read(window: "last-week")?.window == .period(.lastWeek))
        do {
            _ = try read(window: "daily")
            Issue.record("window: daily was accepted")
        } catch {
            #expect("\(error)".contains("chat.report.window: \(DurationText.expected), or a calendar period of tz: "
                + ReportPeriod.names), "\(error)")
        }

        // Due at 08:00 in Berlin on 30 March: yesterday was the day the clocks went forward, 23 hours.
        let yesterday = daily.window(dueAt: Self.utc("2026-03-30T06:00:00Z"))
        #expect(yesterday.from == Self.utc("2026-03-28T23:00:00Z") && yesterday.to == Self.utc("2026-03-29T22:00:00Z"))
        var lasting = daily
        lasting.window = .lasting(86400)
        let day = lasting.window(dueAt: Self.utc("2026-03-30T06:00:00Z"))
        #expect(day.from == Self.utc("2026-03-29T06:00:00Z"), "the 24 hours before 08:00, as before")
    }
}
