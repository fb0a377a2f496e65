import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation

/// Where `automator report` and `automator audit` read: the workers' PostgreSQL with `--store`;
/// else the server that holds the data folder, through its API (`GET /api/v1/report`,
/// `/api/v1/audit`); with none, the folder's database, or the PostgreSQL store of a worker's folder.
enum ReportBackend {
    case server(ServerClient)
    /// With the folder's shared lock, so that no server starts on it meanwhile (none for PostgreSQL).
    case store(any ReportStore, DataFolderLock?)

    /// Runs `body` on the backend `options` name, then closes it. A failure prints `error: ...`
    /// and exits 1.
    static func perform<Answer>(_ options: WindowOptions, _ body: (ReportBackend) async throws(CommandFailure) -> Answer)
        async throws -> Answer
    {
        do {
            let backend: ReportBackend
            if let store = options.store {
                do { backend = .store(try await CommandStores.postgres(try PostgresLocation(url: store)), nil) } catch {
                    throw CommandFailure("\(error)")
                }
            } else {
                switch try FolderAccess.open(options.data) {
                case .server(let client):
                    backend = .server(client)
                case .direct(let lock):
                    do {
                        if let shared = StoreOption.shared(by: options.data) {
                            backend = .store(try await CommandStores.postgres(try PostgresLocation(url: shared)), nil)
                        } else {
                            backend = .store(try CommandStores.sqlite(folder: options.data), lock)
                        }
                    } catch {
                        throw CommandFailure("\(error)")
                    }
                }
            }
            let result: Result<Answer, CommandFailure>
            do { result = .success(try await body(backend)) } catch { result = .failure(error) }
            if case .store(let store, let lock) = backend {
                await store.close()
                withExtendedLifetime(lock) {}
            }
            return try result.get()
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }

    /// The report over `window`, made at `now` when from the store (a server takes its own time).
    func report(_ window: ReportWindow, at now: Date) async throws(CommandFailure) -> Report {
        switch self {
        case .server(let client):
            let answer = try await client.answer("GET", "/api/v1/report?" + Self.query(window))
            let report: Report
            do { report = try ReportJSON.decode(answer.body) } catch {
                throw CommandFailure("the server at \(client.url) (\(answer.server)) sent \(error): this automator is "
                    + "\(AutomatorVersion.current); upgrade the older of the two")
            }
            for section in Report.Section.allCases where report.absent.contains(section) {
                CommandLogging.note("the server at \(client.url) (\(answer.server)) does not report "
                    + "\(section.title): upgrade it to see them")
            }
            if report.window.timeZone != window.timeZone {
                CommandLogging.note("the server at \(client.url) (\(answer.server)) counts days in "
                    + "\(report.window.timeZoneName), not \(window.timeZoneName): upgrade it for --tz")
            }
            return report
        case .store(let store, _):
            do { return try await store.report(window, at: now) } catch { throw CommandFailure("\(error)") }
        }
    }

    /// `{"more": false, "next": null, "audit": [...]}`, newest first.
    func audit(_ query: AuditQuery) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            var parameters = Self.query(query.window) + "&limit=\(query.limit)"
            for (name, value) in [("actor", query.actor), ("after", query.after?.description)] {
                guard let value else { continue }
                parameters += "&\(name)=" + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value)
            }
            return try await client.call("GET", "/api/v1/audit?" + parameters)
        case .store(let store, _):
            do {
                let (entries, next) = try await store.auditPage(query)
                return ReportJSON.audit(entries, next: next)
            } catch { throw CommandFailure("\(error)") }
        }
    }

    /// The window as the API reads it: its two ends, so that "now" is the command's, and its zone.
    private static func query(_ window: ReportWindow) -> String {
        let format = Date.ISO8601FormatStyle()
        let zone = window.timeZoneName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? window.timeZoneName
        return "from=\(window.from.formatted(format))&to=\(window.to.formatted(format))&tz=\(zone)"
    }
}
