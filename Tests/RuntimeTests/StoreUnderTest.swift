import AutomatorRuntime
import Testing
import TestSupport

/// The stores the conformance suites run against, unchanged: the embedded SQLite store, and the
/// PostgreSQL store on a real server started for the test process (`PostgresServer`).
enum StoreUnderTest: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A function that opens this kind of store on new, empty storage, the same storage at every
    /// call (a check may close the store and open it again).
    func opener() async throws -> @Sendable () async throws -> any JournalStore {
        switch self {
        case .sqlite:
            let folder = try ScratchFolder()
            return { try SQLiteStore(folder: folder.path) }
        case .postgres:
            let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
            return { try await PostgresStore(location: location) }
        }
    }
}
