import Foundation
import Synchronization

/// A write lease on a file (`fcntl(F_SETLEASE)`): while it is held, anyone else's `open` of the
/// file waits, as a read from a stalled network mount would, until `release()`. A test holds a
/// feed's file this way to see what goes on while the feed loads, however fast or slow the
/// machine is, where a large feed only made the load likely to outlast the test's look.
///
/// The kernel lets the opener through anyway after `/proc/sys/fs/lease-break-time` (45 s by
/// default), so hold it for a few steps, not a whole test. Needs the file's owner or root, and
/// no other descriptor open on the file.
///
/// ```swift
/// let lease = try FileLease(feedPath)
/// // serve's load of the feed waits here
/// lease.release()
/// ```
public final class FileLease: Sendable {
    /// Open while the lease is held; nil once released (a new lease needs no descriptor left open).
    private let held: Mutex<Int32?>

    public init(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw LeaseError(path: path, reason: String(cString: strerror(errno))) }
        // The kernel tells the holder of a lease that someone waits with a signal, SIGIO unless
        // set: SIGURG, whose default is to be ignored, rather than SIGIO, whose default ends the tests.
        guard fcntl(descriptor, Self.setSignal, SIGURG) == 0, fcntl(descriptor, Self.setLease, F_WRLCK) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw LeaseError(path: path, reason: reason)
        }
        held = Mutex(descriptor)
    }

    /// Lets the waiting opens through.
    public func release() {
        held.withLock { descriptor in
            if let open = descriptor { close(open) }  // which ends the lease
            descriptor = nil
        }
    }

    deinit { release() }

    // Linux's, from <fcntl.h>, which Swift's Glibc does not bring in (they need _GNU_SOURCE).
    private static let setLease: Int32 = 1024  // F_SETLEASE: F_LINUX_SPECIFIC_BASE + 0
    private static let setSignal: Int32 = 10  // F_SETSIG

    struct LeaseError: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "cannot take a lease on \(path): \(reason)" }
    }
}
