import Foundation

/// A path on this machine as the system names it: bytes, which need not be UTF-8. Files an
/// attacker made on a compromised host often have names that are not, and a `String` turns such
/// bytes into U+FFFD, so that it names another file, or none.
public struct LocalPath: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(_ path: String) { bytes = Array(path.utf8) }

    /// The path for people and records, faithful and unambiguous (`VisibleText.Style.name`): UTF-8
    /// as it is, each byte that is not as a decimal escape (`\255`), and a backslash as `\\`, so
    /// that a name typed with `\255` in it is never read as one with the byte.
    public var description: String { VisibleText.escaped(bytes, as: .name) }

    /// Its last component (what follows the last `/`), escaped as `description` is.
    public var fileName: String {
        VisibleText.escaped(Array(bytes.split(separator: UInt8(ascii: "/")).last ?? []), as: .name)
    }

    /// Calls `body` with the path as a C string, for the system's calls.
    func withCString<T>(_ body: (UnsafePointer<CChar>) throws -> T) rethrows -> T {
        try (bytes + [0]).withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { try body($0.baseAddress!) }
        }
    }
}
