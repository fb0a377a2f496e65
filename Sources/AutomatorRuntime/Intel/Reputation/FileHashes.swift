import Crypto

/// A file's MD5, SHA-1 and SHA-256, in lower-case hexadecimal, as forensic tools record them.
public struct FileHashes: Sendable, Hashable {
    public var md5: String
    public var sha1: String
    public var sha256: String

    public init(_ bytes: [UInt8]) {
        md5 = Self.hex(Insecure.MD5.hash(data: bytes))
        sha1 = Self.hex(Insecure.SHA1.hash(data: bytes))
        sha256 = Self.hex(SHA256.hash(data: bytes))
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String {
        digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
