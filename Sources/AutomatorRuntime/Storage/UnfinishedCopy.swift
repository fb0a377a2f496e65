import Foundation

/// The mark of a data folder that `automator store copy --to-folder` is writing (`.NEW.copying`):
/// the file `copy-unfinished` in it, made right after the folder and held with an exclusive
/// `flock` by the copy until the folder is renamed to its destination and the mark removed. The
/// system releases the lock when the process ends, however it ends: a mark nobody holds is what a
/// killed copy left, which the next copy into the same place removes; a held one is a copy still
/// at work, whose folder is left alone. Every command refuses a marked folder (`refuse(_:)`): it
/// holds part of a store at most.
///
/// ```swift
/// let mark = try UnfinishedCopy(marking: building, source: address, destination: target)
/// // ... fill building, then rename it to target
/// mark.finish(at: target)
/// ```
public final class UnfinishedCopy: Sendable {
    /// What a mark says: the copy, and the process that writes (or wrote) it.
    struct Mark: Sendable {
        /// The store copied, as `--store` named it.
        var source: String
        /// Where the folder goes once complete (`--to-folder`).
        var destination: String
        var pid: Int32
    }

    /// Whether the copy that marked a folder is still at work.
    enum State: Sendable {
        case running(Mark)
        case stopped(Mark)
    }

    static let fileName = "copy-unfinished"

    private let descriptor: Int32

    /// Marks `folder`, just made, and holds the mark until `finish(at:)` or the end of the process.
    ///
    /// - Throws: `StoreError.copyRefused` when the mark cannot be written.
    init(marking folder: String, source: String, destination: String) throws(StoreError) {
        let path = Self.path(in: folder)
        descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { close(descriptor) }
            throw .copyRefused(destination, reason: "\(path) cannot be made (\(reason)): check the permissions of the "
                + "folder above it")
        }
        let text = "\(source)\n\(destination)\n\(getpid())\n"
        _ = text.withCString { write(descriptor, $0, strlen($0)) }
    }

    /// Removes the mark from the folder, renamed to `destination`: it is a store from now on.
    func finish(at destination: String) {
        unlink(Self.path(in: destination))
    }

    /// Releases the lock: the copy ended.
    deinit { close(descriptor) }

    /// Whether `folder` is a copy not finished, and whether its copy still runs; nil when it is not one.
    static func state(of folder: String) -> State? {
        let descriptor = open(path(in: folder), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        let mark = mark(in: descriptor, folder: folder)
        return flock(descriptor, LOCK_SH | LOCK_NB) == 0 ? .stopped(mark) : .running(mark)
    }

    /// Refuses `folder` when it is a copy not finished, saying whose and what to do.
    public static func refuse(_ folder: String) throws(StoreError) {
        if let state = state(of: folder) { throw .unfinishedCopy(folder, state: state) }
    }

    /// Removes `folder` if a copy stopped before its end left it: its mark is there, and nobody
    /// holds it. The mark is held while the folder is removed, so that two copies do not both
    /// take it for a leftover.
    ///
    /// - Returns: whether it was removed; false when it is not a leftover (a copy still writes
    ///   it, or it is not a copy's).
    static func removeLeftover(_ folder: String) -> Bool {
        let descriptor = open(path(in: folder), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return false }
        return (try? FileManager.default.removeItem(atPath: folder)) != nil
    }

    private static func path(in folder: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(fileName).path
    }

    /// The mark's three lines; what a mark cut short lacks is told by the folder's name.
    private static func mark(in descriptor: Int32, folder: String) -> Mark {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = max(pread(descriptor, &bytes, bytes.count, 0), 0)
        let lines = String(decoding: bytes[..<count], as: UTF8.self).split(separator: "\n").map(String.init)
        let url = URL(fileURLWithPath: folder).standardizedFileURL
        // `.NEW.copying` is built for `NEW`, beside it.
        let named = url.deletingLastPathComponent().appendingPathComponent(
            String(url.lastPathComponent.dropFirst().dropLast(".copying".count))).path
        return Mark(source: lines.first ?? "a PostgreSQL store", destination: lines.dropFirst().first ?? named,
                    pid: lines.dropFirst(2).first.flatMap { Int32($0) } ?? 0)
    }
}
