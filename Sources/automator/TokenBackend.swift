import AutomatorRuntime
import AutomatorServer
import Foundation

/// Where `automator token` manages the personal API tokens: the workers' PostgreSQL with
/// `--store`; else the server that holds the data folder, through its API with the folder's
/// shared token (`/api/v1/tokens`); with none, the folder's database, or the PostgreSQL store of a
/// worker's folder. Either way the answer is the API's JSON, so that one code path prints it.
enum TokenBackend {
    case server(ServerClient)
    /// With the folder's shared lock, so that no server starts on it meanwhile (none for PostgreSQL).
    case store(any PersonalTokenStore, DataFolderLock?)

    /// Runs `body` on the backend `options` name, then closes it. A failure prints `error: ...`
    /// and exits 1.
    static func perform<Answer>(_ options: TokenOptions, _ body: (TokenBackend) async throws -> Answer)
        async throws -> Answer
    {
        try await CommandLogging.exitingOnFailure {
            let backend = try await open(options)
            defer { if case .store(_, let lock) = backend { withExtendedLifetime(lock) {} } }
            do {
                let answer = try await body(backend)
                if case .store(let store, _) = backend { await store.close() }
                return answer
            } catch {
                if case .store(let store, _) = backend { await store.close() }
                throw error
            }
        }
    }

    private static func open(_ options: TokenOptions) async throws -> TokenBackend {
        if let store = options.store { return .store(try await CommandStores.postgres(try PostgresLocation(url: store)), nil) }
        switch try FolderAccess.open(options.data) {
        case .server(let client):
            return .server(client)
        case .direct(let lock):
            if let shared = StoreOption.shared(by: options.data) {
                return .store(try await CommandStores.postgres(try PostgresLocation(url: shared)), nil)
            }
            return .store(try CommandStores.sqlite(folder: options.data), lock)
        }
    }

    /// `{"name", "token", "created_at", "created_by", "metrics_only", "ingest_only"}`.
    func add(_ name: String, metricsOnly: Bool, ingestOnly: String?) async throws -> String {
        switch self {
        case .server(let client):
            var body = JSONText.Object()
            body["name"] = JSONText.string(name)
            if metricsOnly { body["metrics_only"] = "true" }
            if let ingestOnly { body["ingest_only"] = JSONText.string(ingestOnly) }
            return try await client.call("POST", "/api/v1/tokens", body: body.text)
        case .store(let store, _):
            return try await PersonalTokens.add(name, by: IncidentBackend.actor, metricsOnly: metricsOnly,
                                                ingestOnly: ingestOnly, in: store)
        }
    }

    /// As `add` answers, with the name's new token.
    func rotate(_ name: String) async throws -> String {
        switch self {
        case .server(let client):
            try await client.call("POST", "/api/v1/tokens/\(ServerClient.pathSegment(name))/rotate")
        case .store(let store, _):
            try await PersonalTokens.rotate(name, by: IncidentBackend.actor, in: store)
        }
    }

    /// `{"tokens": [...]}`.
    func list() async throws -> String {
        switch self {
        case .server(let client): try await client.call("GET", "/api/v1/tokens")
        case .store(let store, _): try await PersonalTokens.list(in: store)
        }
    }

    /// `{"name", "revoked_at"}`.
    func revoke(_ name: String) async throws -> String {
        switch self {
        case .server(let client):
            try await client.call("POST", "/api/v1/tokens/\(ServerClient.pathSegment(name))/revoke")
        case .store(let store, _):
            try await PersonalTokens.revoke(name, in: store)
        }
    }
}
