import Foundation

/// Which "question not posted" warnings the log says: the first for a channel, the next when the
/// reason changes, or an hour later with how many went unsaid. With no chat network a busy hour
/// asks thousands of questions, and a warning each buried the rest of the log; each question's
/// journal and `automator question list` say it all the same.
struct UnpostedQuestionWarnings {
    static let interval: TimeInterval = 3600
    private var said: [String: (reason: String, at: Date, unsaid: Int)] = [:]

    /// Nil when a question not posted in `channel` for `reason` goes unsaid; otherwise how many
    /// went unsaid since the last warning for that channel.
    mutating func say(channel: String, reason: String, at now: Date = Date()) -> Int? {
        if let last = said[channel], last.reason == reason, now.timeIntervalSince(last.at) < Self.interval {
            said[channel]?.unsaid += 1
            return nil
        }
        defer { said[channel] = (reason, now, 0) }
        return said[channel]?.unsaid ?? 0
    }
}
