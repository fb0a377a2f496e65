@testable import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import Testing

@Suite("Retry-After: seconds or an HTTP-date (RFC 9110 §10.2.3)")
struct RetryAfterTests {
    /// Two minutes before Wed, 21 Oct 2026 07:28:00 GMT.
    static let now = Date(timeIntervalSince1970: 1_792_567_680 - 120)

    @Test("Seconds, and a date in each of the three forms, give the wait from now; a date past gives none", arguments: [
        ("120", Duration.seconds(120)),
        (" 0 ", .zero),
        ("Wed, 21 Oct 2026 07:28:00 GMT", .seconds(120)),
        ("Wednesday, 21-Oct-26 07:28:00 GMT", .seconds(120)),
        ("Wed Oct 21 07:28:00 2026", .seconds(120)),
        ("Thu Oct  1 07:28:00 2026", .zero),
        ("Tue, 20 Oct 2026 07:28:00 GMT", .zero),
    ])
    func readable(header: String, wait: Duration) {
        #expect(RetryAfter.wait(header, now: Self.now, logger: Logger(label: "test")) == wait)
    }

    @Test("A value in neither form is no wait, said in a debug log, so that the caller waits what it would without one")
    func unreadable() {
        let records = CapturedLog.Records()
        var logger = Logger(label: "test") { _ in CapturedLog(records: records) }
        logger.logLevel = .debug
        #expect(RetryAfter.wait(nil, now: Self.now, logger: logger) == nil)
        #expect(records.lines.withLock { $0.isEmpty })
        for header in ["soon", "21 Oct 2026", "Wed, 21 Oct 2026 07:28:00 CET", "nan"] {
            #expect(RetryAfter.wait(header, now: Self.now, logger: logger) == nil, "\(header)")
        }
        let lines = records.lines.withLock { $0 }
        #expect(lines.count == 4 && lines.allSatisfy { $0.level == .debug })
        #expect(lines.first?.message == #"ignoring Retry-After "soon": neither seconds nor an HTTP-date"#)
    }

    @Test("X-Rate-Limit-Reset, an epoch second, gives the wait until it; one past gives none; anything else nothing")
    func reset() {
        let now = Self.now.timeIntervalSince1970
        #expect(RetryAfter.reset("\(Int(now) + 42)", now: Self.now) == .seconds(42))
        #expect(RetryAfter.reset(" \(Int(now) - 5) ", now: Self.now) == .zero)
        for header in [nil, "", "soon", "inf"] {
            #expect(RetryAfter.reset(header, now: Self.now) == nil, "\(header ?? "nil")")
        }
    }
}
