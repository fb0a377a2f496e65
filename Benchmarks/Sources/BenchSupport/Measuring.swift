import Foundation
import Glibc

/// Busy CPU seconds of the whole machine (all processes: this one, the servers, anyone else).
public func machineCPU() -> Double {
    let line = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?.split(separator: "\n").first ?? ""
    let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
    guard ticks.count >= 5 else { return 0 }
    return (ticks.reduce(0, +) - ticks[3] - ticks[4]) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

public func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// CPU seconds of this process, all its threads.
public func processCPU() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
}

/// A process's resident memory now (`VmRSS`) and its high-water mark since it started
/// (`VmHWM`), in bytes, from /proc; nil once it has ended.
public func processMemory(_ pid: Int32) -> (resident: Int, highWater: Int)? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    func bytes(_ field: String) -> Int? {
        // "VmRSS:\t  123456 kB"
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else { return nil }
        return line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
    }
    guard let resident = bytes("VmRSS"), let highWater = bytes("VmHWM") else { return nil }
    return (resident, highWater)
}
