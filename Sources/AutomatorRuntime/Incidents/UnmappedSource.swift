/// A source whose alerts are kept as unmapped incidents now: why, as the log said it, and how
/// many alerts since (`IncidentService.ingest`).
struct UnmappedSource: Sendable {
    /// Why its alerts are not mapped; a change of reason is said again in the log.
    enum Reason: Sendable {
        /// `mappers/SOURCE.lua` is missing or does not load.
        case noMapper
        /// Its `map` raised an error.
        case mapperFailed
        /// Its `map` returned no valid incident.
        case noValidIncident
    }

    var reason: Reason
    var alerts: Int
}
