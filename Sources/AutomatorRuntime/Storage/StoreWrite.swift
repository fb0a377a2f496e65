/// One change to the store. Writes are applied in the order they are submitted, each one whole
/// or not at all, and a write that is refused (a duplicate, an unknown run) fails alone: the
/// writes committed with it are not affected.
public enum StoreWrite: Sendable {
    /// Records a new run. Refused (`.conflict`) if the id exists.
    case createRun(RunRecord)
    /// Changes a run's status. Refused (`.notFound`) if the run does not exist.
    case updateRun(RunUpdate)
    /// Records host calls, all or none. Refused (`.conflict`) if a sequence is already
    /// recorded for its run, (`.notFound`) if the run does not exist.
    case appendHostCalls([HostCallRecord])
}
