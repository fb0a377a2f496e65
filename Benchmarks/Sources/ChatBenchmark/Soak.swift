import BenchSupport
import Foundation
import NIOCore

/// `--soak MINUTES`: serve's memory over a long run of messages at `--rate`, after the warm-up.
/// The messages go out in an open loop a minute at a time (each minute's events signed just
/// before it starts: Slack's signature is good for five), while serve's `VmRSS` and `VmHWM` are
/// read from /proc every `--sample-every` seconds. Prints a line a minute (the resident memory's
/// lowest and highest of the minute's samples, the high-water mark, the minute's p99), then the
/// growth: resident memory over the last half against the first, so the caches filling in the
/// first minutes are not taken for a leak.
enum Soak {
    struct Sample: Sendable {
        var minute: Double
        var resident: Int
        var highWater: Int
    }

    /// The samples so far: touched on the loop only, as the loads' state is.
    final class Samples: @unchecked Sendable {
        var list = [Sample]()
    }

    /// Runs `minutes` minutes of messages from `first` on; returns how many were sent.
    static func run(minutes: Int, rate: Int, sampleEvery: Int, from first: Int, over connections: [Connection],
                    serve: ServeProcess, slack: LoopbackSlack) async throws -> Int
    {
        say("soak: \(minutes) minutes at \(rate) messages/s in an open loop over \(connections.count) connections; "
            + "serve's memory read every \(sampleEvery) s")
        let start = ContinuousClock.now
        let samples = Samples()
        let pid = serve.pid
        let sampler = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(Int64(sampleEvery))) { _ in
            guard let memory = processMemory(pid) else { return }
            samples.list.append(Sample(minute: seconds(ContinuousClock.now - start) / 60, resident: memory.resident,
                                       highWater: memory.highWater))
        }
        defer { sampler.cancel() }
        let perMinute = rate * 60
        var shown = 0
        for minute in 0..<minutes {
            let load = try await OpenLoad.run(
                messages(from: first + minute * perMinute, count: perMinute, serve: serve), rate: rate,
                over: connections, slack: slack, timeout: .seconds(120), serveLog: serve.log.path)
            let all = try await loop.submit { samples.list }.get()
            let minuteSamples = all[shown...]
            shown = all.count
            let p99 = percentile(load.latencies.sorted(), 0.99)
            say(String(format: "  minute %3d  VmRSS %@  VmHWM %@   p99 %6.2f ms   load %@", minute + 1,
                       range(minuteSamples.map(\.resident)), megabytes(all.last?.highWater ?? 0), p99,
                       loadAverage()))
        }
        summarize(try await loop.submit { samples.list }.get(), minutes: minutes)
        return minutes * perMinute
    }

    /// The resident memory of the first half against the last half, and the high-water mark.
    private static func summarize(_ samples: [Sample], minutes: Int) {
        guard let first = samples.first, let last = samples.last else { return }
        let half = Double(minutes) / 2
        let early = samples.filter { $0.minute < half }.map(\.resident)
        let late = samples.filter { $0.minute >= half }.map(\.resident)
        let (earlyMedian, lateMedian) = (median(early.map(Double.init)), median(late.map(Double.init)))
        say("""
            serve's memory over \(minutes) minutes (\(samples.count) samples): VmRSS \(megabytes(first.resident)) at \
            the start, \(megabytes(last.resident)) at the end, \(range(samples.map(\.resident))) in all; \
            median \(megabytes(Int(earlyMedian))) in the first half, \(megabytes(Int(lateMedian))) in the last \
            (\(String(format: "%+.1f", (lateMedian - earlyMedian) / 1_048_576)) MiB); \
            VmHWM \(megabytes(last.highWater)) at the end
            """)
    }

    private static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }

    /// `12.3–14.5 MiB`: the lowest and the highest.
    private static func range(_ values: [Int]) -> String {
        guard let low = values.min(), let high = values.max() else { return "(no sample)" }
        return String(format: "%.1f–%.1f MiB", Double(low) / 1_048_576, Double(high) / 1_048_576)
    }
}
