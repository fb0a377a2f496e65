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

    /// The bytes `hex` writes (two digits a byte, either case); nil for anything else.
    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            let (high, low) = (Hex.digit(digits[index]), Hex.digit(digits[index + 1]))
            guard high < 16, low < 16 else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
