import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation

/// Where `automator runs` finds the runs of a data folder (`CaseAccess`): the server that holds
/// the folder, through its API; with none, the store, through a run service of its own. Either
/// way the answer is the API's JSON.
enum RunsBackend {
    case server(ServerClient)
    case store(RunService, CaseStore)

    /// Runs `body` on the folder's backend, then closes it. A failure prints `error: ...` and
    /// exits 1.
    static func perform(_ options: CaseOptions, _ body: (RunsBackend) async throws(CommandFailure) -> String)
        async throws -> String
    {
        do {
            let backend = try await open(options)
            let result: Result<String, CommandFailure>
            do { result = .success(try await body(backend)) } catch { result = .failure(error) }
            if case .store(let runs, let place) = backend {
                await runs.shutdown()
                withExtendedLifetime(place) {}
            }
            return try result.get()
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }

    private static func open(_ options: CaseOptions) async throws(CommandFailure) -> RunsBackend {
        switch try await CaseAccess.open(options) {
        case .server(let client):
            return .server(client)
        case .store(let place):
            do { return .store(try RunService(store: place.store, modules: [], executors: 1), place) } catch {
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
            do { return RunJSON.list(try await runs.runs(status: status, limit: limit), loaded: nil) } catch {
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
            let wait: RunWait?
            do { wait = try await RunWait.find(for: run, in: runs.store) } catch { throw CommandFailure("\(error)") }
            return RunJSON.object(run, loaded: nil, waitingOn: wait)
        }
    }

    func kill(_ id: RunID) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("POST", "/api/v1/runs/" + ServerClient.pathSegment(id.rawValue) + "/kill",
                                         run: id)
        case .store(let runs, let place):
            try place.requireWritable("killing \(id)")
            do { return RunJSON.object(try await runs.kill(id), loaded: nil) } catch { throw CommandFailure("\(error)") }
        }
    }
}
