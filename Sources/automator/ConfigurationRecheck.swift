import AutomatorRuntime
import Dispatch
import Foundation
import Logging

/// What `automator serve` does on SIGHUP, which would otherwise end it at once, as a SIGKILL does:
/// logrotate's `postrotate`, `systemctl reload` and a closed terminal send it. The server goes on,
/// reads its configuration file again and logs whether the next start would take it: the file is
/// read only at start, so a change in it waits for a restart, and a mistake in it is better found
/// now than by a start that fails. The scripts folder needs no signal: its files are read again
/// when they change.
///
/// ```swift
/// let recheck = ConfigurationRecheck(file: "automator.yml", logger: logger)  // until it is released
/// ```
final class ConfigurationRecheck {
    private let source: any DispatchSourceSignal

    init(file: String?, logger: Logger) {
        // Ignored by the process, so that only the source receives it: no Swift in a signal handler.
        signal(SIGHUP, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global(qos: .utility))
        source.setEventHandler { Self.log(file: file, logger: logger) }
        source.resume()
    }

    deinit { source.cancel() }

    private static func log(file: String?, logger: Logger) {
        guard let file else {
            logger.info("SIGHUP: nothing to read again (serve has no --config); SIGTERM stops it")
            return
        }
        let restart = "restart serve (SIGTERM, then start it) to apply it"
        do {
            _ = try ConfigurationFile(file: file)
            logger.info("SIGHUP: \(file) loads; serve reads it only at start: \(restart)")
        } catch {
            logger.error("""
                SIGHUP: \(file) does not load, and serve would not start with it: \
                \(error.problems.map(\.description).joined(separator: "; ")). \
                This serve goes on with the configuration it started with; fix the file \
                (automator check --config \(file)), then \(restart)
                """)
        }
    }
}
