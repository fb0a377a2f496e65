public import Foundation

/// The host call a live run is suspended in (`http.get`, `intel.reputation`, `actions.run`), as
/// the executor that holds it knows it: read at request time, never stored, so that a run shown
/// `running` while it waits on the outside world says on what, without a write per call.
public struct HostCallInFlight: Sendable, Hashable {
    /// The function the script called.
    public var name: String
    /// When the run called it: the start of the step it called it in, so early by at most that
    /// step's computing.
    public var since: Date

    public init(name: String, since: Date) {
        self.name = name
        self.since = since
    }

    /// `{"name": "http.get", "since": "2026-12-02T03:14:07.120Z"}`.
    public var json: String {
        var object = JSONText.Object()
        object["name"] = JSONText.string(name)
        object["since"] = JSONText.time(since)
        return object.text
    }
}
