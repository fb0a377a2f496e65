import Foundation

/// A run's status as `Store.loadRun` and `listRuns` give it, in the SQL of both stores.
///
/// A run is stored `running` from its start to its end. Storing `waiting` at each wait and
/// `running` after it would cost commits the runs do not make now: one at the start of each
/// wait on a person (nothing is written then), one at the end of each sleep. So `waiting` is
/// derived from what is stored: a run stored `running` reads as `waiting` when it has an open
/// task it created (a person is to complete it), an unanswered question it asked (`chat.ask`,
/// `chat.approve`, an action's approval), or when its last recorded call is a sleep whose
/// deadline is ahead (a sleep records its deadline as it starts). A run that created a task and
/// does not wait on it yet also reads as waiting while the task is open: a wait on a task is
/// recorded only once answered, so the store cannot tell the two apart.
enum ShownRunStatus {
    /// The host call whose record is a sleep's deadline.
    static let sleep = "time.sleep"

    /// The status column: `asleep` is the store's SQL for "this `host_call` row is a sleep whose
    /// deadline is ahead", over its columns `name` and `result`.
    static func column(asleep: String) -> String {
        "CASE WHEN run.status = 'running' AND \(waits(asleep: asleep)) THEN 'waiting' ELSE run.status END"
    }

    /// The condition that selects the runs shown with `status`: on the stored status first, so
    /// that the index on it serves, then on the waits for `running` and `waiting`.
    static func condition(_ status: RunRecord.Status, asleep: String) -> String {
        switch status {
        case .running: "run.status = 'running' AND NOT \(waits(asleep: asleep))"
        case .waiting: "(run.status = 'waiting' OR (run.status = 'running' AND \(waits(asleep: asleep))))"
        default: "run.status = '\(status.rawValue)'"
        }
    }

    /// Whether the run waits on a person or a timer; never NULL, so that `NOT` selects the others.
    /// `EXISTS` for this run's rows, not `IN` the list of all open tasks: SQLite reads that list
    /// whole for every statement, where `EXISTS` is one search of the partial indexes on `run_id`.
    private static func waits(asleep: String) -> String {
        """
        (EXISTS (SELECT 1 FROM task WHERE task.run_id = run.id AND task.status = 'open') \
        OR EXISTS (SELECT 1 FROM chat_question WHERE chat_question.run_id = run.id AND chat_question.answer IS NULL) \
        OR COALESCE((SELECT \(asleep) FROM host_call WHERE run_key = run.key ORDER BY sequence DESC LIMIT 1), false))
        """
    }
}
