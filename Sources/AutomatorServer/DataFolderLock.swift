import Foundation

/// One `automator serve` per data folder: an exclusive `flock` on `serve.lock` in it, held for
/// the server's life. The system releases it when the process ends, however it ends, so a
/// killed server leaves no stale lock behind. The file says who holds it and where it listens,
/// so that a second server can name the first, and `automator runs` can reach it; a killed
/// server's name stays in it, so a refused server checks that the process lives before naming it.
/// The file is rewritten in place and never shrinks below `reserved` bytes: a server started on
/// a full disk still writes its address into the blocks its folder already has, so that the
/// commands on the folder reach it.
///
/// ```swift
/// let lock = try DataFolderLock(folder: "automator-data")  // or .dataFolderInUse, naming the holder
/// lock.publish(url: "http://127.0.0.1:8080")
/// ```
package final class DataFolderLock: Sendable {
    /// What the lock file says: the server's process and, once it listens, its address.
    package struct Holder: Codable, Sendable {
        package var pid: Int32
        package var url: String?
    }

    /// What holds a folder that a server could not take.
    package enum Occupant: Sendable {
        /// A server, as its lock file says.
        case server(Holder)
        /// Another automator process: a command that holds the folder shared while it works on its
        /// store (`automator chat`, the REPL, `incident list`), by its process and command line.
        case process(pid: Int32, command: String)
        /// Neither could be told.
        case unknown
    }

    /// Who is on a data folder, as `automator runs` sees it.
    package enum Occupancy {
        /// A server: its lock file, or nil in the instant between its lock and its first write.
        case server(Holder?)
        /// No server. The shared lock (nil when there is no lock file yet) keeps one from starting
        /// until it is released, so that a change made directly is not made under a server.
        case nobody(DataFolderLock?)
    }

    package static let fileName = "serve.lock"
    /// What the file keeps of the disk, whoever holds it: a holder is written over the blanks.
    static let reserved = 512

    package let path: String
    private let descriptor: Int32
    private let isExclusive: Bool

    /// Takes the folder for a server.
    ///
    /// - Throws: `.dataFolderInUse`, naming the server that has it; `.lockFile` if the file
    ///   cannot be made or locked.
    package init(folder: String) throws(ServeError) {
        path = URL(fileURLWithPath: folder).appendingPathComponent(Self.fileName).path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .lockFile(path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            let occupant = error == EWOULDBLOCK ? Self.occupant(of: path, open: descriptor) : .unknown
            close(descriptor)
            if error == EWOULDBLOCK { throw .dataFolderInUse(folder, by: occupant) }
            throw .lockFile(path, reason: String(cString: strerror(error)))
        }
        isExclusive = true
        write(Holder(pid: getpid()))
    }

    private init(path: String, sharedDescriptor: Int32) {
        self.path = path
        descriptor = sharedDescriptor
        isExclusive = false
    }

    /// Whether a server has `folder`, and where it listens.
    package static func occupancy(of folder: String) -> Occupancy {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(fileName).path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return .nobody(nil) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) == 0 else {
            defer { close(descriptor) }
            return .server(holder(in: descriptor))
        }
        return .nobody(DataFolderLock(path: path, sharedDescriptor: descriptor))
    }

    /// Records the address clients reach the server at.
    ///
    /// - Returns: why the file could not be written (its disk is full and the file had no room
    ///   yet), for the log; nil once written.
    @discardableResult
    package func publish(url: String) -> String? {
        write(Holder(pid: getpid(), url: url))
    }

    /// A server blanks the file (nobody listens any more), keeping its room; closing releases the lock.
    deinit {
        // Best effort, as every write here: a file left naming a dead pid reads as no server.
        if isExclusive { _ = write(Data()) }
        close(descriptor)
    }

    @discardableResult
    private func write(_ holder: Holder) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(holder) else { return "its JSON could not be made" }
        return write(data)
    }

    /// Writes `text` over the file's start, blanks after it up to `reserved`: in place, so that it
    /// needs no new block of the disk. Best effort: the lock is what matters; the text only helps
    /// people and `automator runs`.
    private func write(_ text: Data) -> String? {
        var bytes = [UInt8](text)
        if bytes.count < Self.reserved {
            bytes += [UInt8](repeating: UInt8(ascii: " "), count: Self.reserved - bytes.count - 1) + [UInt8(ascii: "\n")]
        }
        guard pwrite(descriptor, bytes, bytes.count, 0) == bytes.count else { return String(cString: strerror(errno)) }
        // A longer holder written before leaves no tail; shrinking needs no room.
        ftruncate(descriptor, off_t(bytes.count))
        return nil
    }

    /// What holds the lock on the file at `path`, open at `descriptor`. The file names the last
    /// server that held it, and a server killed with SIGKILL leaves its name there: it holds the
    /// folder only while its process lives. Otherwise a command holds it, found in the kernel's
    /// table of locks.
    private static func occupant(of path: String, open descriptor: Int32) -> Occupant {
        if let holder = holder(in: descriptor), kill(holder.pid, 0) == 0 || errno == EPERM { return .server(holder) }
        guard let pid = lockHolders(of: path).first else { return .unknown }
        let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8))
            .map { $0.split(separator: "\0").joined(separator: " ") } ?? ""
        return .process(pid: pid, command: command)
    }

    /// The processes holding a lock on the file at `path`, from `/proc/locks` (Linux): lines like
    /// `1: FLOCK  ADVISORY  READ  4242 00:2d:1234 0 EOF`, the file by its device's major and minor
    /// numbers (hexadecimal) and its inode; a process waiting for a lock has `->` after the number,
    /// and is not a holder.
    private static func lockHolders(of path: String) -> [Int32] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let device = (attributes[.systemNumber] as? NSNumber)?.uint64Value,
              let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value,
              let table = try? String(contentsOfFile: "/proc/locks", encoding: .utf8)
        else { return [] }
        // glibc's `major()` and `minor()`, which Swift does not import.
        let major = (device >> 8) & 0xfff | (device >> 32) & ~0xfff
        let minor = device & 0xff | (device >> 12) & ~0xff
        let file = String(format: "%02llx:%02llx:%llu", major, minor, inode)
        return table.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 5, fields[1] == "FLOCK", fields[5] == file else { return nil }
            return Int32(fields[4])
        }
    }

    private static func holder(in descriptor: Int32) -> Holder? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        guard count > 0 else { return nil }
        return try? JSONDecoder().decode(Holder.self, from: Data(bytes[..<count]))
    }
}
