public import Foundation
import Crypto

/// A file's MD5, SHA-1 and SHA-256, in lower-case hexadecimal, as forensic tools record them.
public struct FileHashes: Sendable, Hashable {
    public var md5: String
    public var sha1: String
    public var sha256: String

    public init(_ bytes: [UInt8]) {
        var hasher = Hasher()
        hasher.update(bytes)
        self = hasher.finalize()
    }

    /// The three hashes of a stream, a chunk at a time (evidence files of gigabytes).
    public struct Hasher {
        private var md5 = Insecure.MD5()
        private var sha1 = Insecure.SHA1()
        private var sha256 = SHA256()

        public init() {}

        public mutating func update(_ chunk: some DataProtocol) {
            md5.update(data: chunk)
            sha1.update(data: chunk)
            sha256.update(data: chunk)
        }

        public func finalize() -> FileHashes {
            FileHashes(md5: FileHashes.hex(md5.finalize()), sha1: FileHashes.hex(sha1.finalize()),
                       sha256: FileHashes.hex(sha256.finalize()))
        }
    }

    public init(md5: String, sha1: String, sha256: String) {
        self.md5 = md5
        self.sha1 = sha1
        self.sha256 = sha256
    }

    /// Lower-case hexadecimal, two digits a byte.
    static func hex(_ digest: some Sequence<UInt8>) -> String {
        var text = [UInt8]()
        text.reserveCapacity(digest.underestimatedCount * 2)
        for byte in digest {
            text.append(hexDigits[Int(byte >> 4)])
            text.append(hexDigits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
