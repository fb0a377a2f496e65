public import Foundation
public import Logging
import Synchronization

/// The integrations of `scripts/integrations/*.lua`: threat-intel services written in Lua,
/// each on an executor of its own whose `http` reaches only the hosts of its configured URLs and
/// puts its secrets in for it, with its quotas and retries.
///
/// ```lua
/// return integration {
///   name = "VirusTotal", reliability = "B",
///   config = { base_url = "https://www.virustotal.com/api/v3",
///              api_key = { secret = true, env = "VIRUSTOTAL_API_KEY", required = true } },
///   rate = { per_minute = 4, per_day = 500 },
///   reputation = {
///     ip = function(ip, config)
///       local answer = http.get(config.base_url .. "/ip_addresses/" .. ip,
///                               { headers = { ["x-apikey"] = config.api_key } })
///       ...
///       return { score = "malicious", reason = "14/92 engines" }
///     end,
///   },
/// }
/// ```
///
/// Its `smtp` reaches only the mail servers of its configured `smtp://` URLs.
///
/// A setting comes from the configuration file (`integrations.NAME.KEY`, NAME the file's name),
/// else from the environment variable the declaration names, else from its default. A secret
/// reaches the script as a placeholder (`{{secret:KEY:TAG}}`, `IntegrationSecrets`), which only the
/// integration's `http` and `smtp` replace: a script can pass it on, never read, print or log it.
public final class Integrations: Sendable {
    /// An integration ready to be asked.
    struct Integration: Sendable {
        var name: String
        var path: String
        var source: [UInt8]
        /// Its settings in the configuration file, when it was loaded.
        var setting: IntelConfiguration.IntegrationSettings
        var reliability: Reliability
        /// It runs on the organisation's network (`internal: true`): internal indicators may be sent.
        var isInternal: Bool
        var kinds: Set<String>
        /// By action name (`block_ip`).
        var actions: [String: ActionDeclaration]
        /// Its `fetch`, when it declares one.
        var fetch: FetchDeclaration?
        /// The configuration the script sees, as JSON (secrets as placeholders).
        var config: String
        /// Blanks its secrets out of the errors its actions raise, as its `http` does out of answers.
        var concealer: SecretConcealer
        var limiter: RateLimiter
        var pause: IntegrationPause
        /// Its lookups' failures as the log tells them: once a cause.
        var failures: LookupFailures
        var executor: IntegrationExecutor
        var loadedAt: Date
    }

    /// An integration's file that is not used as it is now, and why (its previous version may be).
    public struct Problem: Sendable, Hashable {
        public var path: String
        public var message: String
    }

    /// An integration in use or failing, as `/healthz` and `/metrics` show it.
    public struct Status: Sendable {
        /// `integrations/virustotal.lua`.
        public var path: String
        /// Its name in the configuration: the file's, `virustotal`.
        public var key: String { String(path.dropFirst("integrations/".count).dropLast(".lua".count)) }
        /// When the version in use was loaded; nil when none is.
        public var loadedAt: Date?
        /// Why the file as it is now is not used; nil when it is the version in use.
        public var failure: String?
        /// Its lookups' pause after its service failed (`IntegrationPause`); nil while it answers.
        public var pause: PauseState?
        /// Whether its lookups are held back now: its pause has not ended, or a lookup is asking
        /// its service again. Its pause may have ended with no lookup since, which would ask.
        public var isPaused = false
        /// Its lookups failing since the last that succeeded (a revoked key's 401 too, which
        /// pauses nothing); nil while they succeed.
        public var lookupFailures: LookupFailureState?
    }

    /// What the folder held at the last look; replaced whole when a file changed.
    private struct Loaded: Sendable {
        var integrations: [Integration] = []
        var problems: [Problem] = []
        var notSetUp: [String] = []
        var unconfiguredActions: [ActionDeclaration] = []
    }

    private let folder: String
    /// Where its files' `require` looks (`Integrations+Modules`).
    private let scripts: String
    /// `integrations` of the configuration file; replaced by `reconfigure(settings:)`.
    private let settings: Mutex<[String: IntelConfiguration.IntegrationSettings]>
    private let environment: [String: String]
    private let retry: RetryPolicy
    private let pausePolicy: PausePolicy
    private let quotas: (any IntelStore)?
    private let logger: Logger
    private let loaded = Mutex(Loaded())
    /// The files' sizes and modification times at the last look, whether the settings changed
    /// since, and whether a look is under way.
    private let watch: Mutex<(files: ScriptFolderWatch, settingsChanged: Bool, looking: Bool)>
    /// How long one lookup may take, retries included (a quota's wait, at most a few seconds, comes before).
    private static let limits = Limits(memory: 64 << 20, timeout: .seconds(30),
                                       memorySetBy: "an integration's, fixed: keep less of the service's answer")

    /// Reads the integrations in `folder` (`scripts/integrations`), whose `require` finds the
    /// modules of the folder above it (`scripts/lib/microsoft.lua`); one that cannot be used
    /// (it does not load, a required setting is missing) is left out, with its reason in
    /// `problems` and the log. Those the configuration does not name and that only lack their
    /// settings (the shipped integrations nobody set up) share one line of the log: a warning
    /// each, at every start and every `intel lookup`, buried the warnings that matter.
    ///
    /// - Parameter quotas: where the integrations' requests are counted against their quotas,
    ///   shared with every process and worker on it; in memory when nil.
    /// - Parameter pause: how long an integration rests after its service failed (`IntegrationPause`).
    public init(folder: String, settings: [String: IntelConfiguration.IntegrationSettings],
                environment: [String: String] = ProcessInfo.processInfo.environment, retry: RetryPolicy = .integration,
                pause: PausePolicy = .integration, quotas: (any IntelStore)? = nil, logger: Logger) async
    {
        self.folder = folder
        scripts = Self.scriptsFolder(of: folder)
        self.settings = Mutex(settings)
        self.environment = environment
        self.retry = retry
        pausePolicy = pause
        self.quotas = quotas
        self.logger = logger
        var files = ScriptFolderWatch(folder: folder)
        _ = files.changed(Self.files(in: folder))
        watch = Mutex((files, false, false))
        await reload(initial: true)
    }

    /// The actions the integrations in use declare, by name (`checkpoint.block_ip`).
    public var actions: [ActionDeclaration] {
        loaded.withLock { $0.integrations.flatMap(\.actions.values) }.sorted { $0.name < $1.name }
    }
    public var problems: [Problem] { loaded.withLock { $0.problems } }
    /// The integrations left out only because nothing sets them up: the configuration does not
    /// name them and the environment lacks their settings (`virustotal`). Off, not broken.
    public var notSetUp: [String] { loaded.withLock { $0.notSetUp } }
    /// The actions of the integrations left out only for their missing settings: a dry run, which
    /// sends nothing, can still check and plan them.
    public var unconfiguredActions: [ActionDeclaration] { loaded.withLock { $0.unconfiguredActions } }

    /// Each integration in use, and each file that fails to load (those not set up left out), by path.
    public var statuses: [Status] {
        loaded.withLock { loaded in
            let off = Set(loaded.notSetUp.map { "integrations/\($0).lua" })
            var statuses: [String: Status] = [:]
            for integration in loaded.integrations {
                statuses[integration.path] = Status(path: integration.path, loadedAt: integration.loadedAt,
                                                    pause: integration.pause.current,
                                                    isPaused: integration.pause.holdsLookups(),
                                                    lookupFailures: integration.failures.current)
            }
            for problem in loaded.problems where !off.contains(problem.path) {
                statuses[problem.path, default: Status(path: problem.path)].failure = problem.message
            }
            return statuses.values.sorted { $0.path < $1.path }
        }
    }

    /// Looks at the folder every `interval` until cancelled, and reads it again when a file
    /// changed, appeared or went away (`serve`): an edited integration is used without a restart.
    public func watch(every interval: Duration) async {
        while (try? await Task.sleep(for: interval)) != nil { await refresh() }
    }

    /// Reads the folder again if a file or the settings changed since the last look. A file
    /// that changed, or whose settings did, is loaded again; while the new version does not load,
    /// the previous one stays in use and the problem is logged once. The lookups and actions in
    /// flight finish on the version they started with.
    public func refresh() async {
        let due = watch.withLock { watch in
            guard !watch.looking, watch.files.changed(Self.files(in: folder)) || watch.settingsChanged else { return false }
            watch.settingsChanged = false
            watch.looking = true
            return true
        }
        guard due else { return }
        await reload(initial: false)
        watch.withLock { $0.looking = false }
    }

    /// Puts `settings` in use (serve's SIGHUP) at the next look (`refresh`, `watch`'s within its
    /// interval), as an edited file is: the integrations whose settings changed are loaded again
    /// with them, and those now `enabled: false` left out.
    public func reconfigure(settings: [String: IntelConfiguration.IntegrationSettings]) {
        self.settings.withLock { $0 = settings }
        watch.withLock { $0.settingsChanged = true }
    }

    /// What keeps `settings` from being put in use (serve's SIGHUP checks before it changes
    /// anything): each integration whose settings differ from those in use, checked against its
    /// file's declaration as loading it would (a misspelt setting, a secret too short, a required
    /// one unset), or a name that has no file. Empty when all may be put in use. A file that does
    /// not load is its own problem, logged as one, not the configuration's.
    public func check(settings new: [String: IntelConfiguration.IntegrationSettings]) async -> [String] {
        let running = settings.withLock { $0 }
        let files = Set(Self.files(in: folder))
        let evaluator = try? Self.declarationReader(scripts: scripts)
        var problems: [String] = []
        for (key, setting) in new.sorted(by: { $0.key < $1.key }) where setting.enabled && setting != running[key] {
            let file = key + ".lua"
            guard files.contains(file) else {
                problems.append(Self.namesNoFile(key, among: files))
                continue
            }
            guard let evaluator, let source = FileManager.default.contents(atPath: folder + "/" + file).map(Array.init),
                  let declared = try? await evaluator.declaration("integration", source: source, path: "integrations/" + file)
            else { continue }
            let info = (try? JSONSerialization.jsonObject(with: Data(declared.0.utf8))) as? [String: Any] ?? [:]
            do throws(LeftOut) { _ = try Self.configure(key, setting: setting, declared: info, environment: environment) } catch {
                // An unset setting's message names no integration when one is unset.
                guard case .unconfigured = error else { problems.append(error.message); continue }
                problems.append("integrations.\(key): " + error.message)
            }
        }
        return problems
    }

    /// Why `integrations.KEY` of the configuration is not used when no file has its name: most
    /// often a misspelt name, whose settings would otherwise be dropped without a word. `automator
    /// check` says it in the same words.
    static func namesNoFile(_ key: String, among files: Set<String>) -> String {
        let names = files.map { String($0.dropLast(".lua".count)) }
        let hint = Typo.meant(by: key, among: names).map { "did you mean \($0)?" }
            ?? (names.isEmpty ? "the scripts folder has no integrations: is --scripts right?"
                : "the integrations are " + names.sorted().joined(separator: ", "))
        return "integrations.\(key) names no integration: there is no file integrations/\(key).lua (\(hint))"
    }

    /// The integrations' files in `folder`, by name.
    static func files(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".lua") && !$0.hasSuffix("_test.lua") }.sorted()
    }

    /// Reads every file, keeping the integrations whose text is unchanged as they are; logs what
    /// changed since the last reading (at the first, every problem).
    private func reload(initial: Bool) async {
        let before = loaded.withLock { $0 }
        let settings = self.settings.withLock { $0 }
        var next = Loaded()
        var retired: [Integration] = []
        // One for this reading: the declarations it keeps go with it.
        let evaluator = try? Self.declarationReader(scripts: scripts)
        let files = Self.files(in: folder)
        for (key, setting) in settings.sorted(by: { $0.key < $1.key })
        where setting.enabled && !files.contains(key + ".lua") {
            next.problems.append(Problem(path: "integrations/\(key).lua", message: Self.namesNoFile(key, among: Set(files))))
        }
        for file in files {
            let key = String(file.dropLast(4))
            let path = "integrations/" + file
            let setting = settings[key] ?? IntelConfiguration.IntegrationSettings()
            guard setting.enabled else { continue }
            let previous = before.integrations.first { $0.path == path }
            do throws(LeftOut) {
                guard let evaluator else { throw .broken("no Lua state for reading integrations") }
                guard let source = FileManager.default.contents(atPath: folder + "/" + file).map(Array.init) else {
                    throw .broken("cannot read the file")
                }
                if let previous, previous.source == source, previous.setting == setting {
                    next.integrations.append(previous)
                    continue
                }
                // A service that asked for an hour gets it after an edit of the file; new settings
                // may name another service or key, which is asked.
                let pause = previous.flatMap { $0.setting == setting ? $0.pause : nil }
                next.integrations.append(try await Self.load(key, path: path, source: source, setting: setting,
                                                             scripts: scripts, environment: environment, retry: retry,
                                                             pause: pause.map(Pause.kept) ?? .new(pausePolicy),
                                                             evaluator: evaluator, quotas: quotas, logger: logger))
                if let previous {
                    retired.append(previous)
                    let what = previous.source == source ? "its settings changed" : "changed"
                    logger.info("integration \(path) \(what): the new version is in use")
                } else if !initial {
                    logger.info("integration \(path) is new: it is in use")
                }
            } catch {
                if let previous {
                    next.integrations.append(previous)
                    next.problems.append(Problem(path: path, message: error.message
                        + " (the previous version stays in use until the file loads)"))
                    continue
                }
                next.problems.append(Problem(path: path, message: error.message))
                if case .unconfigured(_, let actions) = error { next.unconfiguredActions += actions }
                if case .unconfigured = error, settings[key] == nil { next.notSetUp.append(key) }
            }
        }
        next.unconfiguredActions.sort { $0.name < $1.name }
        let kept = Set(next.integrations.map(\.path))
        for gone in before.integrations where !kept.contains(gone.path) {
            retired.append(gone)
            logger.info("integration \(gone.path) is no longer used: its file is gone or disabled")
        }
        let off = Set(next.notSetUp.map { "integrations/\($0).lua" })
        for problem in next.problems where !off.contains(problem.path) && !before.problems.contains(problem) {
            let kept = next.integrations.contains { $0.path == problem.path }
            logger.warning("integration \(problem.path) \(kept ? "did not load again" : "is not used"): \(problem.message)")
        }
        let newlyOff = next.notSetUp.filter { !before.notSetUp.contains($0) }
        if !newlyOff.isEmpty {
            logger.info("""
                integrations not set up, not used: \(newlyOff.joined(separator: ", ")) (each needs its settings in the \
                environment or the configuration file; `automator check --config FILE` names them)
                """)
        }
        // Swapped under the lock in which requests take their integration: one taken before
        // holds the executor it runs on, which then stops after it.
        loaded.withLock { $0 = next }
        for integration in retired { integration.executor.retire() }
    }

    /// The actions the integrations in `folder` declare, whatever their settings: what a playbook
    /// test checks its calls against. A file that does not load declares nothing.
    static func declaredActions(in folder: String) async -> [ActionDeclaration] {
        guard let evaluator = try? declarationReader(scripts: scriptsFolder(of: folder)) else { return [] }
        var actions: [ActionDeclaration] = []
        for file in files(in: folder) {
            guard let source = FileManager.default.contents(atPath: folder + "/" + file).map(Array.init),
                  let declared = try? await evaluator.declaration("integration", source: source, path: "integrations/" + file),
                  let info = (try? JSONSerialization.jsonObject(with: Data(declared.0.utf8))) as? [String: Any]
            else { continue }
            actions += ActionDeclaration.all(in: info, integration: String(file.dropLast(4))).values
        }
        return actions.sorted { $0.name < $1.name }
    }

    /// Why an integration is left out.
    private enum LeftOut: Error {
        /// Required settings are missing: it is not set up here. With the actions it declares.
        case unconfigured(String, actions: [ActionDeclaration])
        /// It does not load, or cannot run.
        case broken(String)

        var message: String {
            switch self {
            case .unconfigured(let message, _), .broken(let message): message
            }
        }
    }

    /// The pause a loaded integration gets: that of the version it replaces, or a new one.
    private enum Pause {
        case kept(IntegrationPause)
        case new(PausePolicy)
    }

    private static func load(_ key: String, path: String, source: [UInt8],
                             setting: IntelConfiguration.IntegrationSettings, scripts: String, environment: [String: String],
                             retry: RetryPolicy, pause kept: Pause, evaluator: ScriptEvaluator, quotas store: (any IntelStore)?,
                             logger: Logger)
        async throws(LeftOut) -> Integration
    {
        let json: String
        // Its message: each mistake of the declaration, one a line (a traceback says nothing here).
        do { (json, _) = try await evaluator.declaration("integration", source: source, path: path) } catch {
            throw .broken(mistakes(in: error.message).joined(separator: "; "))
        }
        let info = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
        let name = info["name"] as? String ?? key
        let (config, secrets, hosts, mailServers) = try configure(key, setting: setting, declared: info,
                                                                  environment: environment)
        let rate = info["rate"] as? [String: Any] ?? [:]
        var quotas: [QuotaWindow] = []
        if let perMinute = setting.perMinute ?? (rate["per_minute"] as? NSNumber)?.intValue {
            quotas.append(.init(requests: perMinute, period: .seconds(60)))
        }
        if let perDay = setting.perDay ?? (rate["per_day"] as? NSNumber)?.intValue {
            quotas.append(.init(requests: perDay, period: .seconds(86400)))
        }
        if let perSecond = (rate["per_second"] as? NSNumber)?.intValue {
            quotas.append(.init(requests: perSecond, period: .seconds(1)))
        }
        let pause = switch kept {
        case .kept(let pause): pause
        case .new(let policy): IntegrationPause(name: name, policy: policy, logger: logger)
        }
        let modules: [any HostModule] = [JSONModule(), LogModule(logger: logger), TimeModule(),
                                         HTTPModule(allowedHosts: hosts, secrets: secrets, retry: retry, pause: pause,
                                                    logger: logger),
                                         SMTPModule(allowedServers: mailServers, secrets: secrets), IntegrationsModule()]
        let executor: IntegrationExecutor
        do {
            executor = IntegrationExecutor(try Scheduler(name: key, executors: 1, modules: modules, modulePaths: [scripts],
                                                         limits: limits))
        } catch {
            throw .broken("no Lua state for it: \(error)")
        }
        var object = JSONText.Object()
        for field in config.keys.sorted() { object[field] = JSONText.string(config[field]!) }
        let reliability = setting.reliability ?? (info["reliability"] as? String).flatMap { Reliability(rawValue: $0) } ?? .c
        return Integration(name: name, path: path, source: source, setting: setting, reliability: reliability,
                           isInternal: setting.isInternal, kinds: Set(info["kinds"] as? [String] ?? []),
                           actions: ActionDeclaration.all(in: info, integration: key),
                           fetch: FetchDeclaration(info, integration: key).flatMap { setting.fetch ?? !$0.optIn ? $0 : nil },
                           config: object.text,
                           concealer: SecretConcealer(secrets.secrets),
                           limiter: RateLimiter(quotas, key: key, store: store, logger: logger), pause: pause,
                           failures: LookupFailures(name: name, logger: logger), executor: executor,
                           loadedAt: Date())
    }

    /// An integration's settings checked against its declaration (`info`, the declared table as
    /// JSON) and resolved: the file's, else the environment's, else the default. What the script
    /// sees, its secrets, and the hosts and mail servers its URLs allow.
    private static func configure(_ key: String, setting: IntelConfiguration.IntegrationSettings, declared info: [String: Any],
                                  environment: [String: String])
        throws(LeftOut) -> (config: [String: String], secrets: IntegrationSecrets, hosts: [String], mailServers: [String])
    {
        let declared = info["config"] as? [String: [String: Any]] ?? [:]
        var config: [String: String] = [:]
        var secrets = IntegrationSecrets()
        var hosts: [String] = []
        var mailServers: [String] = []
        // A misspelt setting would leave the one meant unset, and the message would name that one.
        if let unknown = setting.values.keys.sorted().first(where: { declared[$0] == nil }) {
            throw .broken("integrations.\(key).\(unknown) is not one of its settings: "
                + (declared.isEmpty ? "it has none" : "they are " + declared.keys.sorted().joined(separator: ", ")))
        }
        var missing: [(field: String, env: String?)] = []
        // By name, so that the settings missing are named in the same order every time.
        for (field, spec) in declared.sorted(by: { $0.key < $1.key }) {
            let env = spec["env"] as? String
            guard let value = setting.values[field] ?? env.flatMap({ environment[$0] }) ?? spec["default"] as? String else {
                if spec["required"] as? Bool == true { missing.append((field, env)) }
                continue
            }
            if spec["secret"] as? Bool == true {
                // Every answer has the secret blanked out of it: a very short one would be blanked
                // out of ordinary text too (a 1 read as "[secret]" in every number), and the script
                // would fail on JSON it cannot read. A real key or password is longer.
                if !value.isEmpty, value.count < IntegrationSecrets.shortest {
                    let from = setting.values[field] == nil ? env.map { ", set by \($0)," } ?? "" : ""
                    throw .broken("integrations.\(key).\(field)\(from) is a secret of "
                        + "\(value.count.counted("character")): too short to blank out of the service's answers without "
                        + "mangling them (the fewest is \(IntegrationSecrets.shortest)); set the whole key the service gave")
                }
                config[field] = secrets.add(field, value: value)
            } else {
                config[field] = value
                if let url = URLComponents(string: value), let host = url.host, ["http", "https"].contains(url.scheme) {
                    hosts.append(url.port.map { "\(host):\($0)" } ?? host)
                }
                if let url = URLComponents(string: value), let host = url.host, url.scheme == "smtp" {
                    mailServers.append("\(host):\(url.port ?? 25)")
                }
            }
        }
        if !missing.isEmpty {
            throw .unconfigured(Self.notSet(missing, of: key),
                                actions: Array(ActionDeclaration.all(in: info, integration: key).values))
        }
        return (config, secrets, hosts, mailServers)
    }

    /// What to set, all of it at once: `api_key is not set: set the environment variable
    /// VIRUSTOTAL_API_KEY, or integrations.virustotal.api_key in the configuration file`.
    private static func notSet(_ missing: [(field: String, env: String?)], of key: String) -> String {
        if missing.count == 1, let (field, env) = missing.first {
            return "\(field) is not set: set " + (env.map { "the environment variable \($0), or " } ?? "")
                + "integrations.\(key).\(field) in the configuration file"
        }
        let fields = missing.dropLast().map(\.field).joined(separator: ", ") + " and " + missing.last!.field
        let variables = missing.compactMap(\.env)
        return "\(fields) are not set: set them under integrations.\(key) in the configuration file"
            + (variables.isEmpty ? "" : ", or in the environment as " + variables.joined(separator: ", "))
    }

    /// The names of the integrations in use, with the kinds each handles.
    public var available: [(name: String, kinds: [String])] {
        loaded.withLock { $0.integrations.map { ($0.name, $0.kinds.sorted()) } }
    }

    /// The names of the integrations in use that look up `kind` (`ip`, `domain`, `file`...).
    public func sources(for kind: String) -> Set<String> {
        loaded.withLock { Set($0.integrations.lazy.filter { $0.kinds.contains(kind) }.map(\.name)) }
    }

    /// Runs an action of an integration, within its quota: its `run` gets the checked parameters
    /// and `context` (its configuration is added as `context.config`). `completion` gets what it
    /// returned, as JSON, on the integration's thread (no task in between when it has no quota);
    /// or `ActionError.failed` with the integration's error (its secrets blanked out).
    func perform(_ action: ActionDeclaration, parameters: String, context: JSONText.Object,
                 completion: @escaping @Sendable (Result<String, ActionError>) -> Void)
    {
        let integration = loaded.withLock { loaded in
            let found = loaded.integrations.first { $0.path == "integrations/\(action.integration).lua" }
            found?.executor.hold()
            return found
        }
        guard let integration else {
            return completion(.failure(ActionError(.notFound, "the integration \(action.integration) is not in use: "
                                                       + "see the log for why")))
        }
        // Its file changed since the action was planned, and no longer declares it.
        guard integration.actions[action.action] != nil else {
            integration.executor.release()
            return completion(.failure(ActionError(.notFound, "\(integration.path) no longer declares the action "
                                                       + "\(action.action): see its actions in the file")))
        }
        var context = context
        context["config"] = integration.config
        let arguments = JSONText.array([JSONText.string(action.action), parameters, context.textWithoutNulls])
        let request = RunRequest(source: integration.source, chunkName: "@" + integration.path,
                                 arguments: Array(arguments.utf8), entry: .action)
        let logger = logger
        let start: @Sendable () -> Void = {
            integration.executor.run(request) { outcome in
                switch outcome {
                case .completed(let json):
                    // `[result]`, keys sorted: the driver returns exactly one value.
                    completion(.success(String(json.dropFirst().dropLast())))
                case .failed(let error):
                    // A table raised shows its fields: one may hold what a server echoed of a secret.
                    let concealer = integration.concealer
                    logger.warning("action \(action.name) failed: \(concealer.conceal(error.description))")
                    completion(.failure(ActionError(.failed, "\(action.name) failed: \(concealer.conceal(error.message))",
                                                    raised: error.raised.map(concealer.conceal))))
                case .suspended(let why):
                    completion(.failure(ActionError(.interrupted, "\(action.name) did not finish: \(why)")))
                }
            }
        }
        guard integration.limiter.isUnlimited else {
            Task {
                let permit = await integration.limiter.acquire()
                if case .granted = permit { return start() }
                integration.executor.release()
                switch permit {
                case .granted: break
                case .cancelled: completion(.failure(ActionError(.interrupted, "\(action.name) did not start: cancelled")))
                case .usedUp(let usedUp):
                    completion(.failure(ActionError(.failed, "\(action.name) did not start: its \(usedUp)")))
                }
            }
            return
        }
        start()
    }

    /// The fetches of the integrations in use, by name: the version in use of each file, with its settings.
    public var fetches: [FetchDeclaration] {
        loaded.withLock { $0.integrations.compactMap(\.fetch) }.sorted { $0.name < $1.name }
    }

    /// Runs the `fetch.run` of the integration named `name` once, within its quota, with `cursor`
    /// (nil the first time). Its error, secrets blanked out, when the integration is not in use,
    /// declares no fetch, fails, or returns what is not a page.
    func fetch(_ name: String, cursor: String?) async -> Result<FetchPage, FetchError> {
        let integration = loaded.withLock { loaded in
            let found = loaded.integrations.first { $0.path == "integrations/\(name).lua" && $0.fetch != nil }
            found?.executor.hold()
            return found
        }
        guard let integration else {
            return .failure(FetchError(.notDeclared, "the integration \(name) is not in use, or declares no fetch: "
                + "automator check --config FILE says why"))
        }
        switch await integration.limiter.acquire() {
        case .granted: break
        case .cancelled:
            integration.executor.release()
            return .failure(FetchError("cancelled while waiting for its quota"))
        case .usedUp(let usedUp):
            integration.executor.release()
            return .failure(FetchError("its \(usedUp)"))
        }
        var context = JSONText.Object()
        context["config"] = integration.config
        // No second argument the first time: the script's cursor is nil, as it would be in Lua.
        let arguments = JSONText.array([context.text] + (cursor.map { [JSONText.string($0)] } ?? []))
        let request = RunRequest(source: integration.source, chunkName: "@" + integration.path,
                                 arguments: Array(arguments.utf8), entry: .fetch)
        let outcome = await withCheckedContinuation { continuation in
            integration.executor.run(request) { continuation.resume(returning: $0) }
        }
        switch outcome {
        case .completed(let json):
            // `[{alerts, cursor, more}]`, as the driver checked it.
            guard let results = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any],
                  let page = results.first as? [String: Any], let alerts = page["alerts"] as? [String]
            else { return .failure(FetchError("its fetch.run returned what is not a page of alerts")) }
            return .success(FetchPage(alerts: alerts.map { Array($0.utf8) }, cursor: page["cursor"] as? String,
                                      more: page["more"] as? Bool ?? false))
        case .failed(let error):
            return .failure(FetchError(integration.concealer.conceal(error.message)))
        case .suspended(let why):
            return .failure(FetchError("it did not finish: \(why)"))
        }
    }

    /// Asks every integration that handles `kind` (`ip`, `domain`, `url`, `file`, `email`) about
    /// `value`, all at once, but those named in `excluding` (answered from a cache); each answers
    /// within its quota. An integration that fails, or whose quota is used up for longer than a
    /// few seconds, answers `unknown`, with the failure as its reason (its secrets blanked out).
    /// An internal address or name (`InternalIndicator`) is sent only to integrations on the
    /// organisation's network; the others answer `unknown`, saying why. One resting after its
    /// service failed (`IntegrationPause`) answers `unknown` at once, saying until when.
    public func reputation(kind: String, value: String, excluding answered: Set<String> = []) async -> [SourceVerdict] {
        let staysInside = InternalIndicator.reason(kind: kind, value: value)
        // Each one sent the indicator holds the version it is asked with.
        let asked = loaded.withLock { loaded in
            loaded.integrations.filter { $0.kinds.contains(kind) && !answered.contains($0.name) }.map { integration in
                let sent = staysInside == nil || integration.isInternal
                if sent { integration.executor.hold() }
                return (integration, sent)
            }
        }
        return await withTaskGroup(of: SourceVerdict?.self) { group in
            for (integration, sent) in asked {
                // Short, for every chat answer: `internal: true` is told in docs/integrations.md.
                if let staysInside, !sent {
                    let reason = "\(staysInside), not looked up"
                    group.addTask {
                        SourceVerdict(source: integration.name, score: .unknown, reliability: integration.reliability,
                                      reason: reason, asked: false)
                    }
                    continue
                }
                group.addTask { await self.ask(integration, kind: kind, value: value) }
            }
            var verdicts: [SourceVerdict] = []
            for await verdict in group { if let verdict { verdicts.append(verdict) } }
            return verdicts.sorted { $0.source < $1.source }
        }
    }

    /// Asks an integration whose executor is held for it.
    private func ask(_ integration: Integration, kind: String, value: String) async -> SourceVerdict? {
        let probe: Bool
        switch integration.pause.admit() {
        case .refused(let why, let pause):
            integration.executor.release()
            return SourceVerdict(source: integration.name, score: .unknown, reliability: integration.reliability,
                                 reason: why, asked: false, pause: pause)
        case .ask: probe = false
        case .probe: probe = true
        }
        defer { if probe { integration.pause.probeEnded() } }
        let permit = await integration.limiter.acquire()
        if case .granted = permit {} else { integration.executor.release() }
        switch permit {
        case .granted: break
        case .cancelled:
            return SourceVerdict(source: integration.name, score: .unknown, reliability: integration.reliability,
                                 reason: "cancelled while waiting for its quota", asked: false)
        case .usedUp(let usedUp):
            return SourceVerdict(source: integration.name, score: .unknown, reliability: integration.reliability,
                                 reason: "its \(usedUp)", asked: false)
        }
        let arguments = JSONText.array([JSONText.string(kind), JSONText.string(value), integration.config])
        let request = RunRequest(source: integration.source, chunkName: "@" + integration.path,
                                 arguments: Array(arguments.utf8), entry: .reputation)
        let outcome = await withCheckedContinuation { continuation in
            integration.executor.run(request) { continuation.resume(returning: $0) }
        }
        // With the pause this failure began or prolonged, if it did: the lookups after it are not asked.
        func failed(_ reason: String) -> SourceVerdict {
            SourceVerdict(source: integration.name, score: .unknown, reliability: integration.reliability,
                          reason: "failed: " + reason, failed: true, pause: integration.pause.current)
        }
        switch outcome {
        case .completed(let json):
            guard let results = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any] else {
                return failed("its result is not JSON")
            }
            guard let answer = results.first as? [String: Any] else { return nil }
            let score: Score? = if let name = answer["score"] as? String { Score(name: name) } else {
                (answer["score"] as? NSNumber).flatMap { Score(rawValue: $0.intValue) }
            }
            // The driver refused any other score, at the function's line.
            guard let score else { return failed("its score is not one of unknown, benign, suspicious, malicious") }
            integration.failures.succeeded()
            return SourceVerdict(source: integration.name, score: score, reliability: integration.reliability,
                                 reason: answer["reason"] as? String ?? score.name)
        case .failed(let error):
            integration.failures.failed(error.message, value: value)
            return failed(error.message)
        case .suspended(let why):
            return failed("\(why)")
        }
    }

    public func shutdown() {
        for integration in loaded.withLock({ $0.integrations }) { integration.executor.stop() }
    }
}

extension RetryPolicy {
    /// What integrations get: three attempts, waiting 1 s then 2 s (or what a 429 says, up to a
    /// minute).
    public static let integration = RetryPolicy(attempts: 3, firstDelay: .seconds(1), longestWait: .seconds(60))
}
