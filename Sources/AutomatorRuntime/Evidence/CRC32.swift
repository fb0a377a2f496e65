import CZlib
import Foundation

/// The CRC-32 of ZIP (IEEE 802.3, reflected), a chunk at a time, by zlib: a table walked a byte at
/// a time in Swift took longer than the disk to write a bundle of gigabytes.
struct CRC32 {
    private(set) var value: UInt32 = 0

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { update($0.baseAddress, count: $0.count) }
    }

    mutating func update(_ data: Data) {
        data.withUnsafeBytes { update($0.baseAddress?.assumingMemoryBound(to: UInt8.self), count: $0.count) }
    }

    private mutating func update(_ start: UnsafePointer<UInt8>?, count: Int) {
        guard let start, count > 0 else { return }
        value = UInt32(crc32_z(uLong(value), start, count))
    }
}
