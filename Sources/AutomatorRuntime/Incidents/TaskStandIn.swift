public import Foundation

/// Answers the tasks that runs wait on, in place of people: `automator test` gives each task
/// the answer its test stubbed, so a playbook runs to its end without anyone at a terminal.
public protocol TaskStandIn: Sendable {
    /// Who the journal says completed the task.
    var actor: String { get }
    /// The time tasks are created, due and answered by: a test's virtual clock.
    var now: Date { get }
    /// The answer to `task`, or the error its `t:wait()` raises (no answer was given for it).
    func answer(_ task: IncidentTask) async -> Result<String, HostError>
}
