public import Foundation
public import Logging
import Synchronization

/// The report `automator serve` posts to a chat channel every day at a time of its time zone
/// (UTC unless given): the report of its `window`, its days and times in that zone, its main
/// figures in a few lines (`ReportChat`) with the HTML report attached.
///
/// ```yaml
/// chat:
///   report: { channel: "#soc", daily_at: "08:00", tz: Europe/Berlin, window: yesterday }
/// ```
public struct ReportSchedule: Sendable, Hashable {
    /// What each report covers.
    public enum Window: Sendable, Hashable {
        /// The time before the report was due (`window: 7d`).
        case lasting(TimeInterval)
        /// A calendar period of the schedule's zone (`window: yesterday`): yesterday's report at
        /// 08:00 is midnight to midnight, not the 24 hours before 08:00.
        case period(ReportPeriod)
    }

    public var channel: String
    /// The chat network; the first configured when nil.
    public var network: String?
    /// Minutes after midnight, in `timeZone`.
    public var minuteOfDay: Int
    public var window: Window
    public var timeZone: TimeZone

    public init(channel: String, network: String? = nil, minuteOfDay: Int, window: Window,
                timeZone: TimeZone = .gmt)
    {
        self.channel = channel
        self.network = network
        self.minuteOfDay = minuteOfDay
        self.window = window
        self.timeZone = timeZone
    }

    /// The window of the report due at `due`.
    func window(dueAt due: Date) -> ReportWindow {
        switch window {
        case .lasting(let seconds): ReportWindow(lasting: seconds, until: due, timeZone: timeZone)
        case .period(let period): ReportWindow(period, timeZone: timeZone, now: due)
        }
    }

    /// The next time the report is due after `now`.
    public func next(after now: Date) -> Date {
        let today = due(onDay: 0, of: now)
        return today > now ? today : due(onDay: 1, of: now)
    }

    /// The last time the report was due, at or before `now`.
    public func last(atOrBefore now: Date) -> Date {
        let today = due(onDay: 0, of: now)
        return today <= now ? today : due(onDay: -1, of: now)
    }

    /// The time of day on the zone's calendar day `offset` days from `now`'s: 24 hours from the
    /// day before's, or 23 or 25 across a change of the clocks. A time the clocks skip (02:30 on
    /// the spring's day in Europe) is the hour after it (03:30).
    private func due(onDay offset: Int, of now: Date) -> Date {
        let calendar = ReportPeriod.calendar(timeZone)
        // Every day has a start, and every day a day away from it.
        let day = calendar.date(byAdding: .day, value: offset, to: calendar.startOfDay(for: now))!
        var time = calendar.dateComponents([.year, .month, .day], from: day)
        (time.hour, time.minute) = (minuteOfDay / 60, minuteOfDay % 60)
        return calendar.date(from: time)!
    }
}

/// Posts the scheduled report: renders it from the store and sends it through the bot.
public final class ReportPoster: Sendable {
    /// `chat.report`; nil while none is set. Replaced by `reconfigure(schedule:)`.
    private let schedule: Mutex<ReportSchedule?>
    let store: any ReportStore
    let chat: ChatService
    let logger: Logger

    public init(schedule: ReportSchedule?, store: any ReportStore, chat: ChatService, logger: Logger) {
        self.schedule = Mutex(schedule)
        self.store = store
        self.chat = chat
        self.logger = logger
    }

    /// Posts by `schedule` from now on (serve's SIGHUP), or stops posting when nil: `run` takes
    /// it within a second, and posts the last report due at once if it was not posted (as at a start).
    public func reconfigure(schedule: ReportSchedule?) { self.schedule.withLock { $0 = schedule } }

    /// Posts the report of the window that ends at `now`, if a schedule is set.
    public func post(at now: Date = Date()) async throws {
        guard let schedule = schedule.withLock({ $0 }) else { return }
        try await post(schedule, at: now)
    }

    private func post(_ schedule: ReportSchedule, at now: Date) async throws {
        let report = try await store.report(schedule.window(dueAt: now), at: now)
        let day = now.formatted(Date.ISO8601FormatStyle(timeZone: schedule.timeZone).year().month().day())
        _ = try await chat.post(ReportChat.summary(report), to: schedule.channel, on: schedule.network, thread: nil)
        try await chat.upload(Array(ReportFormat.html.render(report).utf8), named: "report-\(day).html", to: schedule.channel,
                              on: schedule.network, comment: "The report with its charts")
        logger.info("report posted to \(schedule.channel)")
    }

    /// How late a missed report is still posted: one due while no server ran, or while the
    /// leader among several workers changed.
    static let catchUp: TimeInterval = 12 * 3600

    /// Where the last due time whose report was posted is kept (the chat state, in the store):
    /// a server that starts, or a worker that takes the lead, after a due time posts that
    /// report once, and not again.
    private static func postedKey(_ schedule: ReportSchedule) -> String {
        "report.\(schedule.network ?? "").\(schedule.channel).posted"
    }

    /// Posts at every due time until cancelled, and first the last one if it was missed (up to
    /// `catchUp` late); a failure is logged and the next day tries again. Kept after posting: a
    /// server that dies between the two posts it again, rather than not at all. The schedule is
    /// looked at every second while it waits, so that a new one is taken at once.
    public func run() async {
        while !Task.isCancelled {
            let schedule = self.schedule.withLock { $0 }
            if let schedule {
                let due = schedule.last(atOrBefore: Date())
                if Date().timeIntervalSince(due) < Self.catchUp, await notPosted(due, by: schedule) {
                    do {
                        try await post(schedule, at: due)
                        try await chat.store.setChatState(Self.postedKey(schedule), to: String(due.millisecondsSince1970))
                    } catch {
                        logger.error("the scheduled report to \(schedule.channel) failed: \(error)")
                    }
                }
            }
            let next = schedule?.next(after: Date()) ?? .distantFuture
            while Date() < next, self.schedule.withLock({ $0 }) == schedule {
                do { try await Task.sleep(for: .seconds(1)) } catch { return }
            }
        }
    }

    /// Whether the report due at `due` is still to be posted: the last one posted was due
    /// before it, or none was.
    private func notPosted(_ due: Date, by schedule: ReportSchedule) async -> Bool {
        guard let text = try? await chat.store.chatState(Self.postedKey(schedule)) else { return true }
        return Int64(text).map { $0 < due.millisecondsSince1970 } ?? true
    }
}
