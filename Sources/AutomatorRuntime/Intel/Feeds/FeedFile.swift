import Foundation

/// The file-system side of feeds: whole files as bytes, with the system's reason when that
/// fails, and the signature a `FeedSet` compares to notice a change.
enum FeedFile {
    /// Modification time, size and inode: a file replaced by a rename, or rewritten within the
    /// same second, still looks changed.
    struct Signature: Equatable, Sendable {
        var seconds: Int
        var nanoseconds: Int
        var size: Int64
        var inode: UInt64
    }

    /// The file's signature, nil when it cannot be looked at (missing, no permission).
    static func signature(_ path: String) -> Signature? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Signature(seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec,
                         size: Int64(info.st_size), inode: UInt64(info.st_ino))
    }

    /// Why a file could not be read: `cannot read PATH: the system's reason`.
    struct Failure: Error {
        var message: String
    }

    /// The whole file, for `feed`.
    ///
    /// - Throws: the system's reason ("No such file or directory", "Permission denied") and
    ///   what to check.
    static func read(_ path: String, for feed: Feed) throws(FeedError) -> [UInt8] {
        do throws(Failure) {
            return try read(path)
        } catch {
            throw FeedError(feed, error.message + "; check the feed's path and the file's permissions")
        }
    }

    static func read(_ path: String) throws(Failure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw unreadable(path) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw unreadable(path) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw Failure(message: "cannot read \(path): not a regular file") }
        // One byte more than the size, so the end is seen without a second buffer; a file that
        // grows meanwhile is read to its new end.
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size) + 1)
        var count = 0
        while true {
            if count == bytes.count { bytes.append(contentsOf: repeatElement(0, count: max(count, 65536))) }
            let got = bytes.withUnsafeMutableBytes { buffer in
                var got: Int
                repeat {
                    got = Foundation.read(descriptor, buffer.baseAddress! + count, buffer.count - count)
                } while got < 0 && errno == EINTR
                return got
            }
            if got < 0 { throw unreadable(path) }
            if got == 0 { break }
            count += got
        }
        bytes.removeSubrange(count...)
        return bytes
    }

    private static func unreadable(_ path: String) -> Failure {
        Failure(message: "cannot read \(path): \(String(cString: strerror(errno)))")
    }
}
