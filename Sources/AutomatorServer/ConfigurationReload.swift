import AutomatorRuntime
import Dispatch
import Foundation
import Logging

/// What `automator serve` does on SIGHUP, which would otherwise end it at once, as a SIGKILL does:
/// `systemctl reload` sends it (and logrotate's `postrotate`, and a closed terminal). The server
/// goes on and reads its configuration file again: when the whole file loads, what a running
/// server can take (`ConfigurationChanges`) is put in use at once, the rest at the next start,
/// and one line of the log names both; when it does not load, nothing changes and the log says
/// why at error level. A SIGHUP while the server starts is taken once it has started.
///
/// Each worker sharing a store reads its own file on its own SIGHUP: reload every one.
///
/// ```swift
/// let reload = ConfigurationReload(file: "automator.yml", running: configuration, logger: logger)
/// reload.start(applyingTo: .init(chat: chat, actions: actions, reputation: reputation, integrations: integrations,
///                                reports: reports))
/// withExtendedLifetime(reload) { ... }  // until the server stops
/// ```
final class ConfigurationReload {
    /// The services that take a new configuration while they run.
    struct Targets: Sendable {
        let chat: ChatService
        let actions: ActionService
        let reputation: ReputationService
        let integrations: Integrations
        let reports: ReportPoster
    }

    private let reloader: Reloader
    private let source: any DispatchSourceSignal

    /// From now on SIGHUP no longer ends the process.
    ///
    /// - Parameters:
    ///   - file: the configuration file (`--config`); nil when serve has none.
    ///   - running: what was read from it at start.
    init(file: String?, running: ConfigurationFile, logger: Logger) {
        let reloader = Reloader(file: file, logger: logger, state: Locked((running, .starting(hungUp: false), 0)))
        self.reloader = reloader
        // Ignored by the process, so that only the source receives it: no Swift in a signal handler.
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: reloader.queue)
        source.setEventHandler { reloader.hungUp() }
        source.resume()
    }

    deinit { source.cancel() }

    /// Applies the configuration to `targets` from now on, and at once if a SIGHUP came while starting.
    func start(applyingTo targets: Targets) { reloader.start(applyingTo: targets) }
}

/// The reading and applying, on one serial queue: one reload at a time, in the order of the signals.
private struct Reloader: Sendable {
    enum Phase {
        case starting(hungUp: Bool)
        case serving(ConfigurationReload.Targets)
    }

    let file: String?
    let logger: Logger
    /// The configuration in use, what takes a new one, and how many lists of feeds were given
    /// since the start (the last one given wins, whichever loads first).
    let state: Locked<(running: ConfigurationFile, phase: Phase, feedLists: Int)>
    let queue = DispatchQueue(label: "automator.reload")

    func start(applyingTo targets: ConfigurationReload.Targets) {
        let hungUp = state.withLock { state in
            defer { state.phase = .serving(targets) }
            if case .starting(hungUp: true) = state.phase { return true }
            return false
        }
        if hungUp { queue.async { reload(into: targets) } }
    }

    func hungUp() {
        guard let file else {
            logger.info("SIGHUP: nothing to read again (serve has no --config); SIGTERM stops it")
            return
        }
        let targets: ConfigurationReload.Targets? = state.withLock { state in
            switch state.phase {
            case .serving(let targets): return targets
            case .starting: state.phase = .starting(hungUp: true); return nil
            }
        }
        guard let targets else {
            return logger.info("SIGHUP: serve is starting; it reads \(file) again once started")
        }
        reload(into: targets)
    }

    private func reload(into targets: ConfigurationReload.Targets) {
        guard let file else { return }
        let new: ConfigurationFile
        do { new = try ConfigurationFile(file: file) } catch {
            return logger.error("""
                SIGHUP: \(file) does not load, so nothing changed: \
                \(error.problems.map(\.description).joined(separator: "; ")). \
                This serve goes on with the configuration it had; fix the file (automator check --config \(file)), \
                then send SIGHUP again (systemctl reload)
                """)
        }
        let (changes, feedsChanged) = state.withLock { state in
            let changes = ConfigurationChanges(from: state.running, to: new)
            let feedsChanged = changes.running.intel.feeds != state.running.intel.feeds
            state.running = changes.running
            return (changes, feedsChanged)
        }
        let running = changes.running
        targets.chat.reconfigure(roles: running.chat.roles)
        targets.actions.reconfigure(running.actions)
        targets.reputation.reconfigure(ttl: running.intel.cacheTTL)
        targets.integrations.reconfigure(settings: running.intel.integrations)
        targets.reports.reconfigure(schedule: running.chat.report)
        logger.notice("SIGHUP: \(changes.summary(of: file))")
        if feedsChanged { load(running.intel.feeds, into: targets.reputation) }
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
