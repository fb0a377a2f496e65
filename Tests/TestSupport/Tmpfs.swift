import Foundation

/// A small tmpfs of its own, for the failures only a real file system gives: full, read-only.
/// Needs root (the tests run as root here); the tests that need one are skipped otherwise.
public final class Tmpfs: Sendable {
    public let path: String

    public static let isAvailable: Bool = getuid() == 0 && (try? Tmpfs(size: "64k")) != nil

    public init(size: String) throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("automator-tmpfs-\(UUID())").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        do {
            try Self.mount(["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", path])
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// Changes the mount's options: `ro`, `size=8m`.
    public func remount(_ options: String) throws { try Self.mount(["-o", "remount,\(options)", path]) }

    /// Writes `file` until the disk is full.
    public func fill(_ file: String) {
        let descriptor = open(file, O_WRONLY | O_CREAT, 0o600)
        let block = [UInt8](repeating: 0, count: 4096)
        while write(descriptor, block, block.count) > 0 {}
        close(descriptor)
    }

    deinit {
        _ = try? Self.run("/bin/umount", ["-l", path])
        try? FileManager.default.removeItem(atPath: path)
    }

    private static func mount(_ arguments: [String]) throws {
        let status = try run("/bin/mount", arguments)
        guard status == 0 else { throw MountError(arguments: arguments, status: status) }
    }

    public struct MountError: Error {
        public var arguments: [String]
        public var status: Int32
    }

    private static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
