import Foundation

/// A ZIP archive of stored (uncompressed) files, written and read a chunk at a time: an evidence
/// bundle holds files of gigabytes, and every tool opens it (`unzip`, Windows, forensic suites).
/// Entries over 4 GiB would need ZIP64, which this does not write: they are refused. The reader
/// also inflates deflated entries, for a bundle someone zipped again.
enum ZipArchive {
    static let chunk = 1 << 20

    struct Entry {
        var name: String
        var crc: UInt32
        var size: UInt32
        var offset: UInt32
        /// Whether its data is deflated (method 8) rather than stored: the bundle was repacked.
        var isDeflated = false
        /// The size of its data in the archive: `size` when stored.
        var storedSize: UInt32

        /// A folder's entry, which `zip -r` adds and nothing in a bundle needs.
        var isFolder: Bool { name.hasSuffix("/") && size == 0 }
    }

    /// Writes entries one after the other, then the central directory (`finish`), to a file of mode
    /// 0600: a bundle is evidence, kept from other users as the vault's objects are.
    final class Writer {
        private let path: String
        private let output: FileHandle
        private var entries: [Entry] = []
        private var offset: UInt64 = 0

        init(path: String) throws(EvidenceError) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: path)
            else { throw EvidenceError(.unavailable, "cannot write \(path): check the folder and its permissions") }
            self.path = path
            output = handle
        }

        func add(_ name: String, bytes: [UInt8]) throws(EvidenceError) {
            let header = try begin(name)
            var crc = CRC32()
            crc.update(bytes)
            try write(Data(bytes))
            try end(header, name: name, crc: crc.value)
        }

        /// Adds an entry whose content `content` gives a chunk at a time (an evidence vault's
        /// read), in one pass: the header is written first, its CRC and size filled in after.
        func add(_ name: String, content: ((Data) throws(EvidenceError) -> Void) async throws(EvidenceError) -> Void)
            async throws(EvidenceError)
        {
            let header = try begin(name)
            var crc = CRC32()
            try await content { data throws(EvidenceError) in
                crc.update(data)
                try write(data)
            }
            try end(header, name: name, crc: crc.value)
        }

        /// Writes an entry's local header, its CRC and size zero until `end`; returns its offset.
        private func begin(_ name: String) throws(EvidenceError) -> UInt64 {
            guard offset < UInt64(UInt32.max) else {
                throw EvidenceError(.invalid, "the archive reached 4 GiB before \(name), which needs ZIP64: export less")
            }
            let start = offset
            var header = ZipBytes()
            header.u32(0x0403_4B50)
            header.u16(20)                 // version needed: 2.0
            header.u16(0x0800)             // UTF-8 names
            header.u16(0)                  // stored
            header.u16(0)
            header.u16(0x21)               // 1980-01-01: the content's hashes date it, not the archive
            header.u32(0)                  // CRC, compressed and uncompressed sizes: filled in by `end`
            header.u32(0)
            header.u32(0)
            header.u16(UInt16(name.utf8.count))
            header.u16(0)
            header.bytes += Array(name.utf8)
            try write(Data(header.bytes))
            return start
        }

        /// Fills in the CRC and size of the entry whose header is at `start`, now written whole.
        private func end(_ start: UInt64, name: String, crc: UInt32) throws(EvidenceError) {
            let size = offset - start - 30 - UInt64(name.utf8.count)
            guard size < UInt64(UInt32.max) else {
                throw EvidenceError(.invalid, "\(name) does not fit a ZIP archive without ZIP64 (4 GiB): export it on its own")
            }
            var fields = ZipBytes()
            fields.u32(crc)
            fields.u32(UInt32(size))
            fields.u32(UInt32(size))
            do {
                try output.seek(toOffset: start + 14)
                try output.write(contentsOf: Data(fields.bytes))
                try output.seek(toOffset: offset)
            } catch {
                throw EvidenceError(.unavailable, "writing the archive failed: \(error.localizedDescription)")
            }
            entries.append(Entry(name: name, crc: crc, size: UInt32(size), offset: UInt32(start),
                                 storedSize: UInt32(size)))
        }

        func finish() throws(EvidenceError) {
            let start = offset
            for entry in entries {
                var header = ZipBytes()
                header.u32(0x0201_4B50)
                header.u16(20)
                header.u16(20)
                header.u16(0x0800)
                header.u16(0)
                header.u16(0)
                header.u16(0x21)
                header.u32(entry.crc)
                header.u32(entry.size)
                header.u32(entry.size)
                header.u16(UInt16(entry.name.utf8.count))
                header.u16(0)
                header.u16(0)
                header.u16(0)
                header.u16(0)
                header.u32(0)
                header.u32(entry.offset)
                header.bytes += Array(entry.name.utf8)
                try write(Data(header.bytes))
            }
            var end = ZipBytes()
            end.u32(0x0605_4B50)
            end.u16(0)
            end.u16(0)
            end.u16(UInt16(entries.count))
            end.u16(UInt16(entries.count))
            end.u32(UInt32(offset - start))
            end.u32(UInt32(start))
            end.u16(0)
            try write(Data(end.bytes))
            do {
                try output.synchronize()
                try output.close()
            } catch {
                throw EvidenceError(.unavailable, "the archive could not be written to disk: \(error.localizedDescription)")
            }
        }

        private func write(_ data: Data) throws(EvidenceError) {
            do { try output.write(contentsOf: data) } catch {
                throw EvidenceError.writing(path, error, otherwise: "export to another disk")
            }
            offset += UInt64(data.count)
        }
    }

    /// The entries of an archive this writer made, or one zipped again with DEFLATE (no ZIP64),
    /// read from its central directory; `content` streams one, inflated.
    struct Reader {
        let path: LocalPath
        let entries: [Entry]
        private let handle: FileHandle

        init(path: LocalPath) throws(EvidenceError) {
            let handle = try FileHandle.evidenceInput(path)
            self.path = path
            self.handle = handle
            func bad(_ why: String) -> EvidenceError { EvidenceError(.tampered, "\(path) is not an evidence bundle: \(why)") }
            do {
                let size = try handle.seekToEnd()
                guard size >= 22 else { throw bad("too short") }
                try handle.seek(toOffset: size - 22)
                let end = ZipBytes(bytes: Array(try handle.read(upToCount: 22) ?? Data()))
                guard end.u32(at: 0) == 0x0605_4B50 else { throw bad("no ZIP end record (a comment, or cut short)") }
                let count = Int(end.u16(at: 10))
                let directorySize = Int(end.u32(at: 12))
                let directoryStart = UInt64(end.u32(at: 16))
                guard directoryStart + UInt64(directorySize) <= size - 22 else { throw bad("its directory is out of range") }
                try handle.seek(toOffset: directoryStart)
                let directory = ZipBytes(bytes: Array(try handle.read(upToCount: directorySize) ?? Data()))
                var entries: [Entry] = []
                var at = 0
                for _ in 0..<count {
                    guard at + 46 <= directory.bytes.count, directory.u32(at: at) == 0x0201_4B50 else {
                        throw bad("its directory is damaged")
                    }
                    let method = directory.u16(at: at + 10)
                    guard method == 0 || method == 8 else {
                        throw bad("an entry is compressed with method \(method), which verify does not read (only stored "
                            + "and deflated): ask for the bundle as it was exported, or zip it again with `zip`")
                    }
                    guard directory.u16(at: at + 8) & 1 == 0 else {
                        throw bad("an entry is encrypted: decrypt it, or ask for the bundle as it was exported")
                    }
                    let nameLength = Int(directory.u16(at: at + 28))
                    let skip = Int(directory.u16(at: at + 30)) + Int(directory.u16(at: at + 32))
                    guard at + 46 + nameLength <= directory.bytes.count else { throw bad("its directory is damaged") }
                    guard let name = String(validating: directory.bytes[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
                    else { throw bad("an entry's name is not UTF-8 (Automator writes every name in UTF-8)") }
                    entries.append(Entry(name: name, crc: directory.u32(at: at + 16), size: directory.u32(at: at + 24),
                                         offset: directory.u32(at: at + 42), isDeflated: method == 8,
                                         storedSize: directory.u32(at: at + 20)))
                    at += 46 + nameLength + skip
                }
                try Self.requireOneNamePerEntry(entries, in: handle, of: path)
                self.entries = entries
            } catch let error as EvidenceError {
                throw error
            } catch {
                throw EvidenceError(.unavailable, "reading \(path) failed: \(error.localizedDescription)")
            }
        }

        /// Refuses an archive whose entries can be read as other files: two entries of one name (unzip
        /// and Python's zipfile extract the last, this reader would check the first), or an entry whose
        /// local header names another file than the directory does (the name unzip extracts it under).
        private static func requireOneNamePerEntry(_ entries: [Entry], in handle: FileHandle, of path: LocalPath)
            throws
        {
            func tampered(_ why: String) -> EvidenceError { EvidenceError(.tampered, "\(path) was tampered with: \(why)") }
            var seen: Set<String> = []
            for entry in entries {
                guard seen.insert(entry.name).inserted else {
                    throw tampered("it holds \(entry.name) twice: a copy was added, and unzip extracts the last one, not "
                        + "the one verify checks")
                }
                let header = try localHeader(of: entry, in: handle, of: path)
                let local = try handle.read(upToCount: Int(header.u16(at: 26))) ?? Data()
                guard local.elementsEqual(entry.name.utf8) else {
                    throw tampered("the entry \(entry.name) is named \(String(decoding: local, as: UTF8.self)) in its own "
                        + "header: unzip would extract it under that name")
                }
            }
        }

        /// The fixed 30 bytes of an entry's local header; the handle is left at the name that follows.
        private static func localHeader(of entry: Entry, in handle: FileHandle, of path: LocalPath) throws -> ZipBytes {
            try handle.seek(toOffset: UInt64(entry.offset))
            let header = ZipBytes(bytes: Array(try handle.read(upToCount: 30) ?? Data()))
            guard header.bytes.count == 30, header.u32(at: 0) == 0x0403_4B50 else {
                throw EvidenceError(.tampered, "\(path): the entry \(entry.name) is damaged")
            }
            return header
        }

        /// Streams an entry's content a chunk at a time, inflated if it is deflated.
        func content(of entry: Entry, _ body: (Data) throws(EvidenceError) -> Void) throws(EvidenceError) {
            func damaged(_ why: String) -> EvidenceError {
                EvidenceError(.tampered, "\(path): the entry \(entry.name) \(why)")
            }
            do {
                let header = try Self.localHeader(of: entry, in: handle, of: path)
                try handle.seek(toOffset: UInt64(entry.offset) + 30 + UInt64(header.u16(at: 26)) + UInt64(header.u16(at: 28)))
                let inflater = entry.isDeflated ? try Inflater() : nil
                var inflated = 0
                var left = Int(entry.storedSize)
                while left > 0 {
                    guard let data = try handle.read(upToCount: min(left, chunk)), !data.isEmpty else {
                        throw damaged("is cut short")
                    }
                    left -= data.count
                    guard let inflater else {
                        try body(data)
                        continue
                    }
                    let inflates = try inflater.inflate(data) { part throws(EvidenceError) in
                        // Never more than the directory says: a small entry made to inflate without end is
                        // not hashed for hours.
                        inflated += part.count
                        guard inflated <= Int(entry.size) else {
                            throw damaged("inflates to more than its \(entry.size) bytes")
                        }
                        try body(part)
                    }
                    guard inflates else { throw damaged("is damaged: its compressed data does not inflate") }
                }
                if let inflater, !inflater.ended { throw damaged("is cut short") }
            } catch let error as EvidenceError {
                throw error
            } catch {
                throw EvidenceError(.unavailable, "reading \(path) failed: \(error.localizedDescription)")
            }
        }

        func bytes(of name: String) throws(EvidenceError) -> [UInt8]? {
            guard let entry = entries.first(where: { $0.name == name }) else { return nil }
            var bytes: [UInt8] = []
            try content(of: entry) { bytes += $0 }
            return bytes
        }
    }
}

/// Little-endian fields of ZIP records.
struct ZipBytes {
    var bytes: [UInt8] = []

    mutating func u16(_ value: UInt16) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8)] }
    mutating func u32(_ value: UInt32) { (0..<4).forEach { bytes.append(UInt8((value >> (8 * $0)) & 0xFF)) } }

    func u16(at offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    func u32(at offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
}
