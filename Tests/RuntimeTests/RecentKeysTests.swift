@testable import AutomatorRuntime
import Testing

@Suite("RecentKeys: the last keys seen, for every chat network's repeats")
struct RecentKeysTests {
    @Test("A repeat is told from a first; past its capacity the oldest key is forgotten, the newer kept")
    func repeatsAndCapacity() {
        var keys = RecentKeys(capacity: 2)
        // Each insert's answer, in order: whether the key was new.
        let answers = ["a", "b", "a", "c", "b", "c", "a", "b", "a"].map { keys.insert($0) }
        // "c" forgets "a" (the oldest); the second "a" is new again and forgets "b".
        #expect(answers == [true, true, false, true, false, false, true, true, false])
    }
}
