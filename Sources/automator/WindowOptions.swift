import ArgumentParser
import AutomatorRuntime
import Foundation

/// The time `automator report` and `automator audit` cover, and the store they read.
struct WindowOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data folder of automator serve.", valueName: "folder"))
    var data = FolderAccess.defaultFolder

    @Option(help: ArgumentHelp(StoreOption.help + " The workers' store, read directly: no server or data folder "
        + "needed.", valueName: "url"))
    var store: String?

    @Option(help: ArgumentHelp("The last stretch of time until now, with its unit (s, m, h, d, w): 12h, 7d, 2w "
        + "(default: 30d for report, 7d for audit).", valueName: "duration"))
    var since: String?

    @Option(help: ArgumentHelp("The start instead: a date (2026-03-01, midnight in --tz) or an ISO 8601 time "
        + "(2026-03-01T08:00:00Z).", valueName: "date"))
    var from: String?

    @Option(help: ArgumentHelp("The end, with --from: a date (that day included) or a time (excluded); default: now. "
        + "A window is at most 100 years.", valueName: "date"))
    var to: String?

    @Option(help: ArgumentHelp("A calendar period of --tz instead, midnight to midnight: \(ReportPeriod.names) "
        + "(weeks Monday to Sunday; this-… ends now). For a weekly report: last-week.", valueName: "period"))
    var period: String?

    @Option(help: ArgumentHelp("The time zone of days and dates, a tz database name: Europe/Berlin, America/New_York "
        + "(default: UTC).", valueName: "zone"))
    var tz: String?

    func validate() throws {
        guard let store else { return try FolderAccess.requireFolder(data) }
        do { _ = try PostgresLocation(url: store) } catch { throw ValidationError("--store: \(error)") }
    }

    /// The window, or a usage error that says what to write.
    func window(fallback: String, now: Date = Date()) throws -> ReportWindow {
        do {
            let zone = try tz.map { name throws(ReportWindow.Invalid) in try ReportWindow.timeZone(named: name) } ?? .gmt
            return try ReportWindow(since: since, from: from, to: to, period: period, timeZone: zone, fallback: fallback,
                                    now: now)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
