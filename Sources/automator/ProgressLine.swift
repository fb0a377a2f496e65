import Foundation

/// A line on standard error each time long work passes another 256 MiB: adding, exporting or
/// verifying evidence of gigabytes takes seconds to minutes, and a silent terminal looks hung.
/// Work under that size prints nothing. Work counted in items (lines imported) says where it is
/// every few seconds instead (`tick`).
final class ProgressLine {
    static let step: Int64 = 256 << 20
    static let interval: Duration = .seconds(3)
    private let label: String
    private var shown: Int64 = 0
    private var lastTick = ContinuousClock.now
    private let onTerminal = isatty(STDERR_FILENO) == 1

    /// `label` starts each line: `evidence add big.img`.
    init(_ label: String) { self.label = label }

    func update(_ done: Int64, of total: Int64) {
        guard total > Self.step, done / Self.step > shown / Self.step else { return }
        shown = done
        let mib = { (bytes: Int64) in bytes >> 20 }
        FileHandle.standardError.write(Data("\(label): \(mib(done)) of \(mib(total)) MiB (\(done * 100 / total)%)\n".utf8))
    }

    /// `status()` after the label, at most every `interval`, on a terminal only: a log (cron, a
    /// pipe) gets the summary at the end rather than a line every few seconds.
    func tick(_ status: () -> String) {
        guard onTerminal, ContinuousClock.now - lastTick >= Self.interval else { return }
        lastTick = .now
        FileHandle.standardError.write(Data("\(label): \(status())\n".utf8))
    }
}
