public import Foundation

/// The latest incident that mentions an indicator: what the chat bot's "seen in INC-12, closed 3
/// days ago" says (`incidents.seen`), and no more of the incident than that.
public struct Sighting: Sendable, Hashable {
    public var id: IncidentID
    public var status: Incident.Status
    public var createdAt: Date
    public var closedAt: Date?

    public init(id: IncidentID, status: Incident.Status, createdAt: Date, closedAt: Date? = nil) {
        self.id = id
        self.status = status
        self.createdAt = createdAt
        self.closedAt = closedAt
    }
}

/// Reads sightings on the thread that calls it, without waiting for another thread: the chat
/// bot asks once for each finding it answers, on an executor's thread. Not `Sendable`: one
/// reader for each thread that asks (each Lua state), which keeps its own connection.
public protocol SightingReader: AnyObject {
    /// The same answer as `IncidentStore.sighting(of:except:)`, read now on this thread.
    func sighting(of indicator: String, except: IncidentID?) throws(StoreError) -> Sighting?
}
