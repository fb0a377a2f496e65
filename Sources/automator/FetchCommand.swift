import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation

struct FetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "See and run the integrations' fetches: the alerts automator serve pulls from tools that cannot push.",
        discussion: """
            An integration that declares fetch = { every = "1m", run = ... } (scripts/integrations/\
            defender.lua) is run by automator serve on its interval, by the leader on a shared \
            PostgreSQL store; each alert goes through scripts/mappers/SOURCE.lua as one posted to \
            /api/v1/ingest/SOURCE does. Its cursor is kept in the store once the page's alerts are.

            When an automator serve holds the data folder, these commands go through its API: the \
            address is in DATA/serve.lock, the token in $AUTOMATOR_API_TOKEN or DATA/api-token. \
            Otherwise list reads the folder's store (the cursors, not the declarations: those are the \
            server's), run --dry-run fetches with the integrations of --scripts and the settings of \
            --config (secrets from the environment, as serve reads them), and a run that stores asks \
            for the server.

            Exit status: 0 when done; 1 when it failed (no such fetch, it is running now, the \
            worker does not lead a shared store, the service failed, the server refused or could not \
            be reached); 64 for a usage error.

            Examples:
              automator fetch list
              automator fetch run defender
              automator fetch run crowdstrike --dry-run
              automator fetch list --json | jq -r '.fetches[].last_error'
            """,
        subcommands: [List.self, Run.self]
    )
}

extension FetchCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the fetches: source, interval, cursor, last success, failures and the last error.",
            discussion: """
                A failing fetch keeps its cursor and is tried again after a pause twice as long each \
                time (from its interval up to 15 minutes); its last error says why, and the server's \
                log says each cause once.

                Examples:
                  automator fetch list
                  automator fetch list --data /var/lib/automator --json
                """
        )

        @OptionGroup var place: CaseOptions

        @Flag(help: "Print the API's JSON: {\"fetches\": [...]}.")
        var json = false

        func validate() throws { try place.requireFolder() }

        func run() async throws {
            let text: String
            do {
                switch try await CaseAccess.open(place) {
                case .server(let client):
                    text = try await client.call("GET", "/api/v1/fetches")
                case .store(let kept):
                    guard let store = kept.store as? any FetchStore else {
                        throw CommandFailure("this store keeps no fetches")
                    }
                    do { text = FetchJSON.list(try await store.fetchStates(), declared: nil) } catch {
                        throw CommandFailure("\(error)")
                    }
                    withExtendedLifetime(kept) {}
                }
            } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
            if json { print(text) } else { printVisible(Self.described(text)) }
        }

        /// Each fetch as a few lines: its name and what it pulls, then where it is.
        static func described(_ json: String) -> String {
            let fetches = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["fetches"]
                as? [[String: Any]] ?? []
            guard !fetches.isEmpty else {
                return "no fetches: no integration in use declares one, and none has run (see docs/integrations.md, Fetching alerts)"
            }
            return fetches.map { fetch in
                let name = fetch["name"] as? String ?? "?"
                var head = name
                if let source = fetch["source"] as? String, let every = fetch["every"] as? Int {
                    head += " (mappers/\(source).lua, every \(every)s)"
                } else if fetch["declared"] as? Bool == false {
                    head += " (declared by no integration in use: its cursor is kept)"
                }
                var lines = [head, "  cursor        " + (fetch["cursor"] as? String ?? "none yet: the first run fetches a recent window"),
                             "  last success  " + (fetch["last_success"] as? String ?? "never")]
                if let since = fetch["failing_since"] as? String, let failures = fetch["failures"] as? Int {
                    lines.append("  failing       since \(since), \(failures.counted("failed run")): "
                        + (fetch["last_error"] as? String ?? ""))
                }
                return lines.joined(separator: "\n")
            }.joined(separator: "\n\n")
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a fetch once, now, through the automator serve that holds the data folder.",
            discussion: """
                The page's alerts become incidents (or join those open) and the cursor moves on, as \
                at the fetch's own time; the next scheduled run comes after its interval. A fetch \
                that is running is not run twice: try again when it is done.

                --dry-run fetches the same page and maps every alert, then prints what each would \
                become: the incident it would open (type, severity, title, its reference, the playbook \
                that would start) or the open one it would join. It stores nothing and keeps the \
                cursor: check a new fetch and its mapper with it before the server opens cases. With no \
                server up it needs --config, the file serve will use, and fetches from here.

                Examples:
                  automator fetch run crowdstrike --dry-run
                  automator fetch run sentinel --dry-run --config automator.yml
                  automator fetch run defender
                  automator fetch run defender --data /var/lib/automator --json
                """
        )

        @OptionGroup var place: CaseOptions

        @Argument(help: ArgumentHelp("The integration whose fetch runs: its file's name, as automator fetch list shows it.",
                                     valueName: "name"))
        var name: String

        @Flag(help: "Map the page's alerts and say what each would open or join; store nothing, keep the cursor.")
        var dryRun = false

        @Option(help: ArgumentHelp("The folder of integrations/ and mappers/, for --dry-run with no automator serve up.",
                                   valueName: "folder"))
        var scripts = "./scripts"

        @Option(help: ArgumentHelp("The configuration file serve uses (the integrations' settings), for --dry-run "
            + "with no automator serve up; while one runs, its own is used.", valueName: "file"))
        var config: String?

        @Flag(help: """
            Print the API's JSON: {"name", "alerts", "opened", "linked", "cursor", "more"}; with --dry-run \
            {"name", "dry_run", "alerts", "cursor", "next_cursor", "more", "incidents": [...]}.
            """)
        var json = false

        func validate() throws { try place.requireFolder() }

        func run() async throws {
            let text: String
            do {
                switch try await CaseAccess.open(place) {
                case .server(let client):
                    if let config {
                        CommandLogging.note("automator serve holds \(place.data) and fetches with its own configuration: "
                            + "\(config) is not read")
                    }
                    text = try await client.call("POST", "/api/v1/fetches/" + ServerClient.pathSegment(name) + "/run"
                        + (dryRun ? "?dry_run=true" : ""))
                case .store(let kept):
                    guard dryRun else {
                        throw CommandFailure("no automator serve answers for \(place.data): a run that stores is the "
                            + "server's, which fetches at once when started (automator serve --data \(place.data)); "
                            + "to see what the fetch would open first, add --dry-run --config automator.yml")
                    }
                    text = try await dryRunHere(on: kept)
                }
            } catch {
                CommandLogging.report(error)
                throw ExitCode.failure
            }
            if json { return print(text) }
            let page = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
            if dryRun { return printVisible(Self.described(dryRun: page, of: name)) }
            let alerts = page["alerts"] as? Int ?? 0
            let more = page["more"] as? Bool == true ? "; the service has more, fetched at the next run" : ""
            printVisible("\(name): \(alerts.counted("alert")), \(page["opened"] as? Int ?? 0) opened an incident, "
                + "\(page["linked"] as? Int ?? 0) joined one here; cursor \(page["cursor"] as? String ?? "none")\(more)")
        }

        /// A dry run with no server: the integrations of `--scripts` with `--config`'s settings, the
        /// cursor and the open incidents of the folder's store.
        private func dryRunHere(on place: CaseStore) async throws -> String {
            guard let config else {
                throw CommandFailure("no automator serve answers for \(place.folder), and no configuration was given: "
                    + "pass --config automator.yml (the file serve uses), whose integrations' settings the fetch needs")
            }
            guard let store = place.store as? any FetchStore else { throw CommandFailure("this store keeps no fetches") }
            let settings: IntelConfiguration
            do { settings = try IntelConfiguration(file: config) } catch { throw CommandFailure("\(config): \(error)") }
            let integrations = await Integrations(folder: scripts + "/integrations", settings: settings.integrations,
                                                  quotas: place.store, logger: CommandLogging.logger(verbose: false))
            defer { integrations.shutdown() }
            let service = try IncidentBackend.service(on: place, scripts: scripts, integrations: integrations)
            let fetches = Fetches(integrations: integrations, incidents: service, store: store,
                                  logger: CommandLogging.logger(verbose: false))
            defer { withExtendedLifetime(place) {} }
            do throws(FetchError) {
                let dryRun = try await fetches.dryRun(name)
                await service.shutdown()
                return FetchJSON.dryRun(dryRun, of: name)
            } catch {
                await service.shutdown()
                throw CommandFailure(error.kind == .failed ? "the fetch \(name) failed: \(error.message)" : error.message)
            }
        }

        /// A dry run's answer as a headline, then a line for each alert:
        ///
        ///     crowdstrike, dry run: 2 alerts, nothing stored; the cursor stays at 2026-12-02T03:00:00Z (a run moves it to ...)
        ///       would open  high malware  Malware on LT-HR-0117 (ref d615:ind:...; playbook Malware on an endpoint)
        ///       would join  INC-41  Falcon alert on DC01 (ref d615:ind:...)
        ///       would join  INC-40 (closed)  Falcon alert on WS-7 (ref d615:ind:...)
        static func described(dryRun page: [String: Any], of name: String) -> String {
            let incidents = page["incidents"] as? [[String: Any]] ?? []
            let cursor = page["cursor"] as? String
            let next = page["next_cursor"] as? String
            var head = "\(name), dry run: \(incidents.count.counted("alert")), nothing stored; the cursor stays "
                + (cursor.map { "at \($0)" } ?? "unset (the first run fetches a recent window)")
            if let next, next != cursor { head += " (a run would move it to \(next))" }
            if page["more"] as? Bool == true { head += "; the service has more" }
            return ([head] + incidents.map { incident in
                let title = incident["title"] as? String ?? "?"
                var notes = (incident["source_ref"] as? String).map { ["ref " + $0] } ?? ["no ref: never deduplicated"]
                let line: String
                if let joins = incident["joins"] as? String {
                    let closed = incident["joins_status"] as? String == "closed" ? " (closed)" : ""
                    line = "  would join  \(joins)\(closed)  \(title)"
                } else {
                    notes.append((incident["playbook"] as? String).map { "playbook " + $0 } ?? "no playbook matches")
                    line = "  would open  \(incident["severity"] as? String ?? "?") \(incident["type"] as? String ?? "?")  \(title)"
                }
                if let warning = incident["warning"] as? String { notes.append(warning) }
                return line + " (" + notes.joined(separator: "; ") + ")"
            }).joined(separator: "\n")
        }
    }
}
