import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation

/// Where `automator runs` finds the runs of a data folder: the server that holds the folder,
/// through its API; with none, the folder's database, through a run service of its own. Either
/// way the answer is the API's JSON.
enum RunsBackend {
    case server(ServerClient)
    /// With the folder's shared lock, so that no server starts on it meanwhile.
    case store(RunService, DataFolderLock?)

    /// Runs `body` on the folder's backend, then closes it. A failure prints `error: ...` and
    /// exits 1.
    static func perform(in folder: String, _ body: (RunsBackend) async throws(CommandFailure) -> String)
        async throws -> String
    {
        do {
            let backend = try open(folder)
            let result: Result<String, CommandFailure>
            do { result = .success(try await body(backend)) } catch { result = .failure(error) }
            if case .store(let runs, let lock) = backend {
                await runs.shutdown()
                withExtendedLifetime(lock) {}
            }
            return try result.get()
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }

    private static func open(_ folder: String) throws(CommandFailure) -> RunsBackend {
        switch try FolderAccess.open(folder) {
        case .server(let client):
            return .server(client)
        case .direct(let lock):
            do {
                let runs = try RunService(store: try SQLiteStore(folder: folder), modules: [], executors: 1)
                return .store(runs, lock)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    func list(status: RunRecord.Status?, limit: Int) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            let query = (status.map { "status=\($0.rawValue)&" } ?? "") + "limit=\(limit)"
            return try await client.call("GET", "/api/v1/runs?" + query)
        case .store(let runs, _):
            do { return RunJSON.list(try await runs.runs(status: status, limit: limit)) } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    func show(_ id: RunID) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("GET", "/api/v1/runs/" + ServerClient.pathSegment(id.rawValue), run: id)
        case .store(let runs, _):
            let run: RunRecord?
            do { run = try await runs.run(id) } catch { throw CommandFailure("\(error)") }
            guard let run else { throw CommandFailure("\(RunServiceError.notFound(id))") }
            return RunJSON.object(run)
        }
    }

    func kill(_ id: RunID) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("POST", "/api/v1/runs/" + ServerClient.pathSegment(id.rawValue) + "/kill",
                                         run: id)
        case .store(let runs, _):
            do { return RunJSON.object(try await runs.kill(id)) } catch { throw CommandFailure("\(error)") }
        }
    }
}
