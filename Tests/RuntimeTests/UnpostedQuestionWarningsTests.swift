@testable import AutomatorRuntime
import Foundation
import Testing

@Suite("The log's warnings for questions not posted")
struct UnpostedQuestionWarningsTests {
    @Test("Said once per channel, again when the reason changes, and an hour later with how many went unsaid")
    func oncePerChannelAndHour() {
        var warnings = UnpostedQuestionWarnings()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let none = "no chat network is configured"
        #expect(warnings.say(channel: "#soc", reason: none, at: start) == 0)
        #expect(warnings.say(channel: "#soc", reason: none, at: start + 60) == nil)
        #expect(warnings.say(channel: "#soc", reason: none, at: start + 120) == nil)
        #expect(warnings.say(channel: "#ir", reason: none, at: start + 180) == 0, "another channel is said")
        #expect(warnings.say(channel: "#soc", reason: none, at: start + 3600) == 2, "an hour on, with the count")
        #expect(warnings.say(channel: "#soc", reason: none, at: start + 3660) == nil)
        #expect(warnings.say(channel: "#soc", reason: "the network is down", at: start + 3700) == 1, "a new reason")
    }
}
