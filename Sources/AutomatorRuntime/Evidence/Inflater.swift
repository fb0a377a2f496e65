import CZlib
import Foundation

/// Raw DEFLATE (a ZIP entry's method 8) inflated a chunk at a time, for a bundle someone repacked
/// with compression: bundles are written stored, and verified whatever tool zipped them again.
/// zlib keeps a pointer back to its stream, so the stream and the buffers stay where they are.
final class Inflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private let input = UnsafeMutablePointer<UInt8>.allocate(capacity: ZipArchive.chunk)
    private let output = UnsafeMutablePointer<UInt8>.allocate(capacity: ZipArchive.chunk)
    /// Whether the DEFLATE data has ended: an entry whose data ends before it is damaged.
    private(set) var ended = false

    init() throws(EvidenceError) {
        stream.initialize(to: z_stream())
        // Thrown once every property is set, so `deinit` frees them (inflateEnd refuses a stream not started).
        guard czlib_inflate_init_raw(stream) == Z_OK else {
            throw EvidenceError(.unavailable, "zlib could not start inflating (out of memory?): try again")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
        output.deallocate()
    }

    /// Inflates `data` (at most a chunk), handing what it makes to `body` a chunk at a time.
    /// Returns false when `data` is not DEFLATE data, or goes on after its end.
    func inflate(_ data: Data, _ body: (Data) throws(EvidenceError) -> Void) throws(EvidenceError) -> Bool {
        data.copyBytes(to: input, count: data.count)
        stream.pointee.next_in = input
        stream.pointee.avail_in = UInt32(data.count)
        repeat {
            stream.pointee.next_out = output
            stream.pointee.avail_out = UInt32(ZipArchive.chunk)
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            // Z_BUF_ERROR: nothing more to make from this input.
            guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return false }
            let made = ZipArchive.chunk - Int(stream.pointee.avail_out)
            if made > 0 { try body(Data(bytes: output, count: made)) }
            if status == Z_STREAM_END {
                ended = true
                return stream.pointee.avail_in == 0
            }
        } while stream.pointee.avail_out == 0
        return true
    }
}
