public import Foundation
public import Logging

/// The report `automator serve` posts to a chat channel every day at a time (UTC): the report of
/// the last `window`, its main figures in a few lines (`ReportChat`) with the HTML report attached.
///
/// ```yaml
/// chat:
///   report: { channel: "#soc", daily_at: "08:00", window: 7d }
/// ```
public struct ReportSchedule: Sendable, Hashable {
    public var channel: String
    /// The chat network; the first configured when nil.
    public var network: String?
    /// Minutes after midnight, UTC.
    public var minuteOfDay: Int
    public var window: TimeInterval

    public init(channel: String, network: String? = nil, minuteOfDay: Int, window: TimeInterval) {
        self.channel = channel
        self.network = network
        self.minuteOfDay = minuteOfDay
        self.window = window
    }

    /// The next time the report is due after `now`.
    public func next(after now: Date) -> Date {
        let day = (now.timeIntervalSince1970 / 86400).rounded(.down) * 86400
        let today = Date(timeIntervalSince1970: day + Double(minuteOfDay * 60))
        return today > now ? today : today.addingTimeInterval(86400)
    }

    /// The last time the report was due, at or before `now`.
    public func last(atOrBefore now: Date) -> Date { next(after: now).addingTimeInterval(-86400) }
}

/// Posts the scheduled report: renders it from the store and sends it through the bot.
public struct ReportPoster: Sendable {
    let schedule: ReportSchedule
    let store: any ReportStore
    let chat: ChatService
    let logger: Logger

    public init(schedule: ReportSchedule, store: any ReportStore, chat: ChatService, logger: Logger) {
        self.schedule = schedule
        self.store = store
        self.chat = chat
        self.logger = logger
    }

    /// Posts the report of the window that ends at `now`.
    public func post(at now: Date = Date()) async throws {
        let report = try await store.report(ReportWindow(lasting: schedule.window, until: now), at: now)
        let day = String(JSONText.time(now).dropFirst().prefix(10))
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
    private var postedKey: String { "report.\(schedule.network ?? "").\(schedule.channel).posted" }

    /// Posts at every due time until cancelled, and first the last one if it was missed (up to
    /// `catchUp` late); a failure is logged and the next day tries again. Kept after posting: a
    /// server that dies between the two posts it again, rather than not at all.
    public func run() async {
        while !Task.isCancelled {
            let due = schedule.last(atOrBefore: Date())
            if Date().timeIntervalSince(due) < Self.catchUp, await notPosted(due) {
                do {
                    try await post(at: due)
                    try await chat.store.setChatState(postedKey, to: String(due.millisecondsSince1970))
                } catch {
                    logger.error("the scheduled report to \(schedule.channel) failed: \(error)")
                }
            }
            let next = schedule.next(after: Date())
            try? await Task.sleep(for: .seconds(max(0, next.timeIntervalSinceNow)))
        }
    }

    /// Whether the report due at `due` is still to be posted: the last one posted was due
    /// before it, or none was.
    private func notPosted(_ due: Date) async -> Bool {
        guard let text = try? await chat.store.chatState(postedKey) else { return true }
        return Int64(text).map { $0 < due.millisecondsSince1970 } ?? true
    }
}
