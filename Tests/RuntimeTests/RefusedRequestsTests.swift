@testable import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import Testing

@Suite("RefusedRequests: a line a minute at most for each kind of refusal, with a count of the others")
struct RefusedRequestsTests {
    @Test("The first refusal of a kind is logged; those within the minute are counted in the next line")
    func aLineAMinute() {
        let records = CapturedLog.Records()
        let refusals = RefusedRequests(logger: Logger(label: "test") { _ in CapturedLog(records: records) })
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for second in 0..<30 {
            refusals.note("no valid API token", request: "GET /api/v1/runs", from: "10.0.0.7:\(50000 + second)",
                          at: start.addingTimeInterval(Double(second)))
        }
        refusals.note("slack: the signature does not match", request: "POST /slack/events", from: "10.0.0.8:40000",
                      at: start.addingTimeInterval(30))
        refusals.note("no valid API token", request: "GET /metrics", from: "10.0.0.9:41000",
                      at: start.addingTimeInterval(60))
        let lines = records.lines.withLock { $0.map(\.message) }
        #expect(lines == [
            "refused GET /api/v1/runs from 10.0.0.7:50000: no valid API token; one line a minute at most for this kind of refusal",
            "refused POST /slack/events from 10.0.0.8:40000: slack: the signature does not match; one line a minute at "
                + "most for this kind of refusal",
            "refused GET /metrics from 10.0.0.9:41000: no valid API token (and 29 more requests of this kind since the "
                + "last line); one line a minute at most for this kind of refusal",
        ], "\(lines)")
    }

    @Test("A burst that stops is counted in a line of its own once its minute is over, and only once")
    func burstCounted() async throws {
        let records = CapturedLog.Records()
        let refusals = RefusedRequests(logger: Logger(label: "test") { _ in CapturedLog(records: records) }, interval: 0.3)
        for port in 50000..<50004 {
            refusals.note("no valid API token", request: "GET /api/v1/runs", from: "10.0.0.7:\(port)")
        }
        let counted = "refused 3 more requests since the last line: no valid API token (the last: GET /api/v1/runs "
            + "from 10.0.0.7:50003); one line a minute at most for this kind of refusal"
        let deadline = Date().addingTimeInterval(20)
        while records.lines.withLock({ $0.count }) < 2, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        // Another minute with no refusal: nothing more to count.
        try await Task.sleep(for: .seconds(0.7))
        let lines = records.lines.withLock { $0.map(\.message) }
        #expect(lines.count == 2 && lines.last == counted, "\(lines)")
    }
}
