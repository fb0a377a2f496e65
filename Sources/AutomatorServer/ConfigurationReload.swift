import AutomatorRuntime
import Dispatch
import Foundation
import Logging

/// What `automator serve` does on SIGHUP, which would otherwise end it at once, as a SIGKILL does:
/// `systemctl reload` sends it (and logrotate's `postrotate`, and a closed terminal). The server
/// goes on and reads its configuration file again. All of it is checked before anything changes:
/// the file loads, and the integrations' settings it changes are those their files declare
/// (`Integrations.check(settings:)`). Then what a running server can take (`ConfigurationChanges`)
/// is put in use at once, the roles and the actions' rules in one step (`AccessRules`), the rest
/// at the next start, and one line of the log names both; otherwise nothing changes and the log
/// says what to fix, at error level. A SIGHUP while the server starts is taken once it has started;
/// several while one is read are taken as one more.
///
/// Each worker sharing a store reads its own file on its own SIGHUP: reload every one.
///
/// ```swift
/// let reload = ConfigurationReload(file: "automator.yml", running: configuration, logger: logger)
/// reload.start(applyingTo: .init(rules: rules, reputation: reputation, integrations: integrations, reports: reports,
///                                taskNotices: taskNotices))
/// withExtendedLifetime(reload) { ... }  // until the server stops
/// ```
final class ConfigurationReload {
    /// The services that take a new configuration while they run.
    struct Targets: Sendable {
        let rules: AccessRules
        let reputation: ReputationService
        let integrations: Integrations
        let reports: ReportPoster
        let taskNotices: TaskNotices
    }

    private let reloader: Reloader
    private let source: any DispatchSourceSignal
    /// One element for the SIGHUPs not read yet, however many came.
    private let signals: AsyncStream<Void>
    private let started = Locked(false)
    private let reading = Locked<Task<Void, Never>?>(nil)

    /// From now on SIGHUP no longer ends the process.
    ///
    /// - Parameters:
    ///   - file: the configuration file (`--config`); nil when serve has none.
    ///   - running: what was read from it at start.
    init(file: String?, running: ConfigurationFile, logger: Logger) {
        reloader = Reloader(file: file, logger: logger, state: Locked((running, 0)))
        let (signals, hungUp) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.signals = signals
        // Ignored by the process, so that only the source receives it: no Swift in a signal handler.
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: DispatchQueue(label: "automator.reload"))
        source.setEventHandler { [started] in
            guard let file else {
                return logger.info("SIGHUP: nothing to read again (serve has no --config); SIGTERM stops it")
            }
            if !started.withLock({ $0 }) {
                logger.info("SIGHUP: serve is starting; it reads \(file) again once started")
            }
            hungUp.yield()
        }
        source.setCancelHandler { hungUp.finish() }
        source.resume()
    }

    deinit {
        source.cancel()
        reading.withLock { $0?.cancel() }
    }

    /// Applies the configuration to `targets` from now on, and at once if a SIGHUP came while starting.
    func start(applyingTo targets: Targets) {
        started.withLock { $0 = true }
        let (signals, reloader) = (signals, reloader)
        reading.withLock { $0 = Task { for await _ in signals { await reloader.reload(into: targets) } } }
    }
}

/// The reading and applying, one at a time in the order of the signals.
private struct Reloader: Sendable {
    let file: String?
    let logger: Logger
    /// The configuration in use, and how many lists of feeds were given since the start (the last
    /// one given wins, whichever loads first).
    let state: Locked<(running: ConfigurationFile, feedLists: Int)>

    func reload(into targets: ConfigurationReload.Targets) async {
        guard let file else { return }
        let new: ConfigurationFile
        do { new = try ConfigurationFile(file: file) } catch {
            return refuse(file, "does not load", error.problems.map(\.description))
        }
        let problems = await targets.integrations.check(settings: new.intel.integrations)
        guard problems.isEmpty else { return refuse(file, "does not fit the integrations", problems) }
        let (changes, feedsChanged) = state.withLock { state in
            let changes = ConfigurationChanges(from: state.running, to: new)
            let feedsChanged = changes.running.intel.feeds != state.running.intel.feeds
            state.running = changes.running
            return (changes, feedsChanged)
        }
        let running = changes.running
        targets.rules.replace(AccessRules.Rules(roles: running.chat.roles, actions: running.actions))
        targets.reputation.reconfigure(ttl: running.intel.cacheTTL)
        targets.integrations.reconfigure(settings: running.intel.integrations)
        targets.reports.reconfigure(schedule: running.chat.report)
        targets.taskNotices.reconfigure(settings: running.chat.tasks)
        logger.notice("SIGHUP: \(changes.summary(of: file))")
        if feedsChanged { load(running.intel.feeds, into: targets.reputation) }
    }

    /// Logs that nothing of `file` was put in use, and what to fix.
    private func refuse(_ file: String, _ why: String, _ problems: [String]) {
        logger.error("""
            SIGHUP: \(file) \(why), so nothing changed: \(problems.joined(separator: "; ")). \
            This serve goes on with the configuration it had; fix the file (automator check --config \(file)), \
            then send SIGHUP again (systemctl reload)
            """)
    }

    /// Loads `feeds` in the background (each file read again: a new list is a new index) and
    /// puts them in use once loaded: lookups answer from the previous list until then, where a
    /// list swapped in at once would answer that every feed is still loading.
    private func load(_ feeds: [IntelConfiguration.FeedSettings], into reputation: ReputationService) {
        let list = state.withLock { state in
            state.feedLists += 1
            return state.feedLists
        }
        let loading = FeedSet(feeds, logger: logger, firstLoad: .inBackground(wait: .zero))
        Task {
            await loading.refresh()
            let taken = state.withLock { state in
                guard state.feedLists == list else { return false }
                reputation.reconfigure(feeds: loading)
                return true
            }
            if taken { logger.notice("SIGHUP: the new list of feeds is in use (\(feeds.map(\.name).joined(separator: ", ")))") }
        }
    }
}
