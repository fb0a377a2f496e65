import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Take incidents and run their playbooks, and scripts, for an HTTP API, durably, until stopped.",
        discussion: """
            Runs are kept in the data folder (--data, an SQLite database), with every host call \
            they make, so a run survives a restart: after a crash or a stop, the next start \
            resumes each unfinished run where it was. One server per data folder: a second one \
            on the same folder exits at once, naming the first.

            Several servers (workers) share one PostgreSQL database with --store (or `store:` in \
            the --config file), each with its own --data folder (token, lock): each takes the \
            requests sent to it, and the runs of a worker that died move to the others within \
            --lease and a second, resumed where they were. The password comes from PGPASSWORD or \
            ~/.pgpass, never the command line. Evidence files are kept in that database too, \
            so every worker reaches them (automator evidence ... --store). Give every worker the \
            same --config: one of them leads (it receives from Matrix, posts the scheduled report \
            and lifts expired actions; automator store check names it), and another takes over \
            when it dies. A task completed or a question answered through any worker wakes the \
            run waiting on it wherever it runs. A data folder used until now moves its history \
            into the empty database with automator store copy. While the database cannot be \
            reached, the requests that need it answer 503 within seconds saying why, the log says \
            so once, and the worker works again when it is back, without a restart.

            The API, JSON in and out (errors are {"error": "what to do"}):
              POST /api/v1/runs          start a run; 201 {"id": ..., "status": ...}
                                         {"script": "triage.lua", "args": ["203.0.113.7"]}
                                         or {"source": "return 1 + 1"} (a personal token:
                                         with chat.roles.author)
              GET  /api/v1/runs/ID       the run: status, incident, args, result, error,
                                         times, waiting_on (a timer, question,
                                         approval or task), in_call (the host
                                         call a running run is in, and since)
              GET  /api/v1/runs          newest first; ?status=failed&limit=20
              POST /api/v1/runs/ID/kill  stop a run
              POST /api/v1/incidents     open one: {"title", "type", "severity", ...};
                                         201 {"id": "INC-7", "playbook": ..., "run": ...}
              POST /api/v1/ingest/SOURCE any alert JSON, made an incident by
                                         mappers/SOURCE.lua (type unmapped, with a
                                         "warning", if there is none or it cannot); 200
                                         when linked to an open duplicate. A webhook
                                         that cannot set a header (Splunk's) sends
                                         ?token= with a token made by token add NAME
                                         --ingest-only SOURCE, refused elsewhere
              GET  /api/v1/incidents     newest first;
                                         ?status=new,active&type=&severity=&text=
              GET  /api/v1/incidents/ID  the incident, its SLA, tasks, progress, run
              PATCH /api/v1/incidents/ID {"owner", "severity", "status", "labels", "by"};
                                         to close: {"status": "closed", "reason": ...};
                                         a severity moves the SLA, from the opening
              GET  /api/v1/incidents/ID/journal   what happened, in order, a page at a
                                         time: ?after=SEQUENCE&limit=1000;
                                         {"journal", "more"}
              POST /api/v1/incidents/ID/journal   a note by hand, at most 1 MiB:
                                         {"text", "by"}
              POST /api/v1/incidents/ID/command   a bot command in the war room:
                                         {"text": "!note ...", "by"}; 200 {"posts"}
              POST /api/v1/incidents/ID/retry     the failed playbook run again, replaying
                                         its record
              POST /api/v1/incidents/ID/playbook  {"name": ...}: start that playbook on it
              GET  /api/v1/tasks         open tasks first;
                                         ?owner=tier1&overdue=true&status=
              POST /api/v1/tasks/ID/complete      {"answer": "yes", "by": "alice"}
              PATCH /api/v1/tasks/ID     {"owner": "bob", "by": "alice"}: give it to bob
              GET  /api/v1/playbooks     in the order they are tried, and the broken files
              GET  /api/v1/questions     the questions runs wait on; ?incident=INC-4
              POST /api/v1/questions/ID/answer    {"choice": "approve", "by": "alice"}
              GET  /api/v1/actions       the actions run, newest first; ?incident=INC-7
              GET  /api/v1/actions/catalog        the actions declared, in use and off
              POST /api/v1/actions       {"name", "params", "incident", "by",
                                         "dry_run", "approve"}
              POST /api/v1/actions/ID/undo, /api/v1/incidents/ID/actions/undo
              GET  /api/v1/intel/reputation       ?value=203.0.113.7: the verdict
              GET  /api/v1/intel/export  the indicators looked up, STIX 2.1
              GET  /api/v1/report        ?since=30d, or ?from=2026-03-01&to=...
                                         (100 years at most)
              GET  /api/v1/audit         who did what; ?since=7d&actor=cli:alice
              GET  /api/v1/tokens        the personal tokens (never the tokens themselves)
              POST /api/v1/tokens        {"name": "alice"}: 201 with the token, shown once;
                                         "metrics_only": true for Prometheus's
              POST /api/v1/tokens/NAME/rotate     a new token, shown once; the old one
                                         refused
              POST /api/v1/tokens/NAME/revoke     refused from the next request on
                                         (the four with the shared token only)
              POST /slack/events, /slack/interactions, /slack/commands (signed)
              GET  /healthz              without a token: {"status": "ok", "chat": [...],
                                         "integrations_failing": [...],
                                         "integrations_paused": [...],
                                         "integrations_lookups_failing": [...],
                                         "playbooks_failing": [...]}; 503 {"status":
                                         "unavailable", "reason": ...} while the database
                                         (--store) cannot be reached
              GET  /metrics              for Prometheus (with any token: best its own,
                                         token add prometheus --metrics-only): open
                                         incidents, SLAs, tasks, runs, questions, feeds,
                                         playbooks (failing), integrations (failing,
                                         paused, lookups failing), chat

            The scripts folder holds playbooks/*.lua (return playbook { name, match, priority, \
            sla, run, on_sla_breach }), mappers/SOURCE.lua, sla.lua (SLAs by type and severity) \
            and hooks/sla_breach.lua. The playbook that matches a new incident (highest \
            priority, then name) runs on it; files changed on disk are read again within a \
            second, integrations too (a file that no longer loads leaves its previous version in \
            use, and the log, /healthz and /metrics say so). SLA deadlines that pass while the server is down fire at the next start.

            A script named in a run request is a file in the scripts folder (--scripts), which is \
            also where require() looks. Every /api/ request needs Authorization: Bearer TOKEN \
            (in the URL, ?token=, only an ingest-only token on its source's ingest). \
            Give each person and integration a personal token (automator token add alice): its \
            requests are api:alice in the journal, may not claim another "by", and \
            chat.roles apply to alice, so an approval needs a real approver (with none named, \
            only the shared token approves, and serve warns at start). A personal token \
            reads, creates and triages incidents and starts the scripts folder's playbooks; it \
            needs chat.roles.responder to run or undo an action and chat.roles.author to send \
            Lua ({"source": ...}), else 403 naming the key. The shared token \
            is the operator's, as powerful as the data folder (it names anyone and manages \
            tokens): keep it to the people who run the server. It is $AUTOMATOR_API_TOKEN if \
            set; otherwise the first start makes one and keeps it in DATA/api-token (mode 0600) \
            for later starts and for the commands on the folder; it is never logged. Several \
            workers on one --store each make their own: give them all the same \
            $AUTOMATOR_API_TOKEN, so that a load balancer needs one; personal tokens (and \
            Prometheus's metrics-only one) are kept in the database, so every worker knows them.

            --timeout bounds each stretch of computing between two waits; --memory caps each \
            run's Lua memory, so that a run holding a big table while it waits never fails the \
            others; the runs of one executor hold at most 4 times that together, at least 1 GiB \
            (a waiting run takes about 2.4 KB). Scripts reach only the hosts --allow-http names.

            SIGTERM or Ctrl-C stops gracefully: no new requests, the requests in flight answer, \
            runs in flight stay unfinished (after their host calls in flight are recorded) and \
            resume at the next start. SIGHUP (systemctl reload) reads the --config file again \
            without a restart: when the whole file loads, chat.roles, actions, cache, the \
            integrations' settings and chat.report apply from the next request, message or lookup \
            on, and a new list of feeds once it is loaded (the previous list answers meanwhile); \
            one line of the log names what changed and what waits for the next start \
            (chat.slack, chat.matrix, store, log); a file that does not load changes \
            nothing, and the log says why (automator check --config FILE finds it first). Each \
            worker on a shared --store reads its own file: reload every one. The scripts, \
            integrations and feed files need no signal: they are read again when they change. The log, on standard error, is timed in UTC whatever TZ is, as the journal and \
            the reports are; it says `listening on http://HOST:PORT` once it accepts requests. \
            --log-format json writes one JSON object a line (time, level, label, message, source, \
            metadata) for a log shipper, the reason a start failed too; --log-level warning keeps \
            the warnings and errors only (the address is then in DATA/serve.lock). Both can be set \
            in the --config file (log: level, format), read at the start: the command line wins. \
            Exit status: 0 after a stop, 1 when it could not start.

            Examples:
              automator serve
              automator serve --data /var/lib/automator --http 0.0.0.0:8080
              automator serve --scripts scripts --executors 4 --timeout 60
              PGPASSWORD=... automator serve \\
                  --store postgres://automator@db.example:5432/automator
              curl -H "Authorization: Bearer $(cat automator-data/api-token)" \\
                   -d '{"script": "triage.lua", "args": ["203.0.113.7"]}' \\
                   http://127.0.0.1:8080/api/v1/runs
            """
    )

    @Option(help: ArgumentHelp("The folder for the runs' database, the API token and the lock.", valueName: "folder"))
    var data = FolderAccess.defaultFolder

    @Option(help: ArgumentHelp(StoreOption.help + " Shared with other workers; default: SQLite in --data.",
                               valueName: "url"))
    var store: String?

    @Option(help: ArgumentHelp("With --store: how long a worker's runs stay its own unless renewed, with its unit "
        + "(s, m, h): 10s, 1m; after it dies, the others resume them within this time and a second.",
                               valueName: "duration"))
    var lease = "10s"

    @Option(help: ArgumentHelp("Listen on this address; port 0 lets the system pick one (default: 127.0.0.1:8080).",
                               valueName: "host:port"),
            transform: { text throws(ListenAddress.Mistake) in try ListenAddress(parsing: text) })
    var http = ListenAddress(host: "127.0.0.1", port: 8080)

    @Option(help: ArgumentHelp("The folder of the playbooks, mappers and scripts.", valueName: "folder"))
    var scripts = "./scripts"

    @Option(help: ArgumentHelp("How many threads run Lua (default: one per core).", valueName: "n"))
    var executors: Int?

    @Option(name: .customLong("dedup-window"),
            help: ArgumentHelp("How long an open incident takes the alerts with its source and reference, unless "
                + "its mapper says otherwise, with its unit (s, m, h, d, w): 30m, 24h, 7d; 0 for never.",
                               valueName: "duration"))
    var dedupWindow = "24h"

    @Option(help: ArgumentHelp("The configuration file: feeds (loaded in the background: serve listens at once), "
        + "integrations' settings and secrets, cache times, chat, actions (YAML); read again on SIGHUP.",
                               valueName: "file"))
    var config: String?

    @OptionGroup var limits: LimitOptions
    @OptionGroup var access: ModuleOptions

    @Option(help: ArgumentHelp("The least severe lines the log writes (default: info, or log.level in --config).",
                               valueName: "level"))
    var logLevel: Logger.Level?

    @Option(help: ArgumentHelp("text for a person, json for a log shipper: an object a line with time, level, label, "
        + "message, source and metadata (default: text, or log.format in --config).", valueName: "format"))
    var logFormat: LogFormat?

    @Flag(name: .shortAndLong, help: "The same as --log-level debug: show log.debug messages too.")
    var verbose = false

    func validate() throws {
        if verbose, let logLevel {
            throw ValidationError("--verbose is --log-level debug: give one of them, not both (--log-level \(logLevel) "
                + "was given too)")
        }
        if let executors, !(1...1024).contains(executors) {
            throw ValidationError("--executors must be between 1 and 1024, e.g. --executors 4")
        }
        if let store {
            do { _ = try PostgresLocation(url: store) } catch { throw ValidationError("--store: \(error)") }
        }
        if let missingUnit = DurationText.missingUnit("--lease", lease, likely: "s")
            ?? DurationText.missingUnit("--dedup-window", dedupWindow, likely: "s")
        {
            throw ValidationError(missingUnit)
        }
        guard let seconds = DurationText.seconds(lease), seconds >= 1 else {
            throw ValidationError("--lease takes \(DurationText.expected) of at least 1 s, not '\(lease)'")
        }
        guard DurationText.seconds(dedupWindow) != nil else {
            throw ValidationError("--dedup-window takes \(DurationText.expected), or 0, not '\(dedupWindow)'")
        }
    }

    func run() async throws {
        let configuration: ConfigurationFile
        let location: PostgresLocation?
        do {
            configuration = try config.map { try ConfigurationFile(file: $0) } ?? ConfigurationFile()
            location = try store.map { try PostgresLocation(url: $0) } ?? configuration.store.location
        } catch {
            Self.report(error, as: logFormat ?? .text)
            throw ExitCode.failure
        }
        let format = logFormat ?? configuration.log.format ?? .text
        let level = logLevel ?? (verbose ? .debug : nil) ?? configuration.log.level ?? .info
        let logger = CommandLogging.logger(level: level, format: format)
        // A mistyped folder would serve a healthy-looking API that opens incidents and never runs a
        // playbook, maps an alert or answers in chat: refused, so a service manager shows the failure.
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: scripts, isDirectory: &isFolder), isFolder.boolValue else {
            let path = URL(fileURLWithPath: scripts).standardizedFileURL.path
            Self.report(CommandFailure("""
                there is no scripts folder \(path): pass --scripts with the folder that holds playbooks/, mappers/ \
                and commands/ (Automator's own is scripts/ in its source tree)
                """), as: format)
            throw ExitCode.failure
        }
        let access = self.access
        let server = APIServer(
            configuration: .init(dataFolder: data, store: location, lease: .seconds(DurationText.seconds(lease)!),
                                 host: http.host, port: http.port, scriptsFolder: scripts,
                                 executors: executors, limits: limits.limits,
                                 dedupWindow: DurationText.seconds(dedupWindow)!, file: configuration,
                                 filePath: config),
            modules: { access.modules(logger: logger, reputation: $0) }, logger: logger)
        do {
            try await server.run()
        } catch {
            Self.report(error, as: format)
            throw ExitCode.failure
        }
    }

    /// Says why the server could not start, or stopped: `error: ...` lines as every command says
    /// them, or in JSON critical lines, so that a log shipper reads the reason as it reads the rest.
    private static func report(_ error: any Error, as format: LogFormat) {
        guard format == .json else { return CommandLogging.report(error) }
        let logger = CommandLogging.logger(level: .critical, format: .json)
        for problem in CommandLogging.problems(error) { logger.critical("\(problem)") }
    }
}
