import Foundation
import Glibc

/// The data folder's lock on incident and task numbers (`DATA/numbers.lock`, an exclusive
/// `flock`), held by a process from the first number it takes until the writes that hold its
/// numbers have committed (`NumberCounters`). Several commands may work on a folder with no server
/// (`incident new` in two terminals, an import beside a playbook run): each counted numbers on from
/// what it read at opening, and the second to write an incident failed on a number stored since.
/// The file says which process holds the lock last, for the error of one that waited too long.
final class NumberingLock: @unchecked Sendable {
    /// How long a process waits for another to commit its numbered writes: a second, usually; an
    /// import of thousands of lines holds the lock between its pages' commits only.
    static let patience: Duration = .seconds(30)
    static let fileName = "numbers.lock"

    let path: String
    /// Opened at the first number taken: a store that only reads makes no file (a full disk).
    private var descriptor: Int32 = -1

    init(folder: String) {
        path = URL(fileURLWithPath: folder).appendingPathComponent(Self.fileName).path
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    /// Waits for the lock, up to `patience`. Called under the counters' mutex, which serialises
    /// it with `release`.
    func acquire() throws(StoreError) {
        if descriptor < 0 {
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else {
                throw .unavailable(path, reason: "the lock on incident numbers cannot be opened: \(String(cString: strerror(errno)))")
            }
        }
        let deadline = ContinuousClock.now + Self.patience
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw .unavailable(path, reason: "the lock on incident numbers failed: \(String(cString: strerror(errno)))")
            }
            guard ContinuousClock.now < deadline else { throw .numbersHeld(path, by: holder()) }
            usleep(5_000)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pwrite(descriptor, pid, pid.utf8.count, 0)
    }

    func release() {
        if descriptor >= 0 { flock(descriptor, LOCK_UN) }
    }

    /// The process that took the lock last, as the file says.
    private func holder() -> Int32? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return Int32(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
