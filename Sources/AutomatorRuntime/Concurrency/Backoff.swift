/// The pauses between tries of something that fails until the world around it changes (a store
/// that refuses writes, a chat network away): `first`, then twice as long each time, up to
/// `longest`.
///
/// ```swift
/// var backoff = Backoff.storeWrites
/// while !(await tryAgain()) { try await Task.sleep(for: backoff.next()) }
/// ```
struct Backoff {
    private var pause: Duration
    private let longest: Duration

    init(first: Duration, longest: Duration) {
        pause = first
        self.longest = longest
    }

    /// The pause to wait now; the next one is twice as long, up to `longest`.
    mutating func next() -> Duration {
        defer { pause = min(pause * 2, longest) }
        return pause
    }

    /// For a write the store refused (a full disk, a lock held too long, a database away): again
    /// after half a second, then every 5 s at most, so that what waits on it goes on within
    /// seconds of the store taking writes again, without a try per millisecond meanwhile.
    static var storeWrites: Backoff { Backoff(first: .milliseconds(500), longest: .seconds(5)) }
}
