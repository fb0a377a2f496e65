import Foundation

/// A ZIP archive of stored (uncompressed) files, written and read a chunk at a time: an evidence
/// bundle holds files of gigabytes (a memory image, a disk image), and every tool opens it (`unzip`,
/// Windows, forensic suites). What a 32-bit field cannot hold (an entry of 4 GiB or more, one that
/// starts past 4 GiB, 65,535 entries or more, a directory past 4 GiB) goes in ZIP64's fields, for
/// that entry or the archive's end only: a bundle that needs none is plain ZIP 2.0, as before. The
/// reader also inflates deflated entries, for a bundle someone zipped again.
enum ZipArchive {
    static let chunk = 1 << 20
    /// A 32-bit field of all ones stands for "in ZIP64's fields": a value this large or larger goes there.
    static let wide = UInt64(UInt32.max)

    struct Entry {
        var name: String
        var crc: UInt32
        var size: UInt64
        var offset: UInt64
        /// Whether its data is deflated (method 8) rather than stored: the bundle was repacked.
        var isDeflated = false
        /// The size of its data in the archive: `size` when stored.
        var storedSize: UInt64

        /// A folder's entry, which `zip -r` adds and nothing in a bundle needs.
        var isFolder: Bool { name.hasSuffix("/") && size == 0 }

        /// The values ZIP64's extra field can hold, in the order it holds those it does.
        static var wideFields: [WritableKeyPath<Entry, UInt64>] { [\.size, \.storedSize, \.offset] }
    }

    /// Writes entries one after the other, then the central directory (`finish`), to a file of mode
    /// 0600: a bundle is evidence, kept from other users as the vault's objects are.
    final class Writer {
        private let path: String
        private let output: FileHandle
        private var entries: [Entry] = []
        private var offset: UInt64 = 0

        /// An entry whose header is written and whose content is being written.
        private struct Started {
            var entry: Entry
            /// Where its content starts.
            var content: UInt64
        }

        init(path: String) throws(EvidenceError) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: path)
            else { throw EvidenceError(.unavailable, "cannot write \(path): check the folder and its permissions") }
            self.path = path
            output = handle
        }

        func add(_ name: String, bytes: [UInt8]) throws(EvidenceError) {
            let started = try begin(name, size: UInt64(bytes.count))
            var crc = CRC32()
            crc.update(bytes)
            try write(Data(bytes))
            try end(started, crc: crc.value)
        }

        /// Adds an entry of `size` bytes whose content `content` gives a chunk at a time (an evidence
        /// vault's read), in one pass: the header is written first, its CRC filled in after.
        func add(_ name: String, size: Int64,
                 content: ((Data) throws(EvidenceError) -> Void) async throws(EvidenceError) -> Void)
            async throws(EvidenceError)
        {
            let started = try begin(name, size: UInt64(size))
            var crc = CRC32()
            try await content { data throws(EvidenceError) in
                crc.update(data)
                try write(data)
            }
            try end(started, crc: crc.value)
        }

        /// Writes an entry's local header, its CRC zero until `end`. Its size is known before its
        /// content: a header with ZIP64's field for the size cannot be made from one without it after.
        private func begin(_ name: String, size: UInt64) throws(EvidenceError) -> Started {
            let isWide = size >= ZipArchive.wide
            var header = ZipBytes()
            header.u32(0x0403_4B50)
            header.u16(isWide ? 45 : 20)   // version needed: 4.5 for ZIP64's fields, 2.0 otherwise
            header.u16(0x0800)             // UTF-8 names
            header.u16(0)                  // stored
            header.u16(0)
            header.u16(0x21)               // 1980-01-01: the content's hashes date it, not the archive
            header.u32(0)                  // CRC: filled in by `end`
            header.u32(narrow(size))       // compressed and uncompressed sizes
            header.u32(narrow(size))
            header.u16(UInt16(name.utf8.count))
            header.u16(isWide ? 20 : 0)
            header.bytes += Array(name.utf8)
            if isWide {
                // A local header's ZIP64 field holds both sizes, uncompressed first.
                header.u16(1)
                header.u16(16)
                header.u64(size)
                header.u64(size)
            }
            let started = Started(entry: Entry(name: name, crc: 0, size: size, offset: offset, storedSize: size),
                                  content: offset + UInt64(header.bytes.count))
            try write(Data(header.bytes))
            return started
        }

        /// Fills in the CRC of an entry now written whole.
        private func end(_ started: Started, crc: UInt32) throws(EvidenceError) {
            var entry = started.entry
            let written = offset - started.content
            guard written == entry.size else {
                throw EvidenceError(.tampered, "\(entry.name) is \(written) bytes, but its record in the store says "
                    + "\(entry.size): the record was changed. Nothing was exported")
            }
            entry.crc = crc
            var field = ZipBytes()
            field.u32(crc)
            do {
                try output.seek(toOffset: entry.offset + 14)
                try output.write(contentsOf: Data(field.bytes))
                try output.seek(toOffset: offset)
            } catch {
                throw EvidenceError(.unavailable, "writing the archive failed: \(error.localizedDescription)")
            }
            entries.append(entry)
        }

        func finish() throws(EvidenceError) {
            let start = offset
            for entry in entries {
                let wide = Entry.wideFields.filter { entry[keyPath: $0] >= ZipArchive.wide }
                var header = ZipBytes()
                header.u32(0x0201_4B50)
                header.u16(wide.isEmpty ? 20 : 45)  // made by, and needed: 4.5 for ZIP64's fields
                header.u16(wide.isEmpty ? 20 : 45)
                header.u16(0x0800)
                header.u16(0)
                header.u16(0)
                header.u16(0x21)
                header.u32(entry.crc)
                header.u32(narrow(entry.storedSize))
                header.u32(narrow(entry.size))
                header.u16(UInt16(entry.name.utf8.count))
                header.u16(wide.isEmpty ? 0 : UInt16(4 + 8 * wide.count))
                header.u16(0)
                header.u16(0)
                header.u16(0)
                header.u32(0)
                header.u32(narrow(entry.offset))
                header.bytes += Array(entry.name.utf8)
                if !wide.isEmpty {
                    header.u16(1)
                    header.u16(UInt16(8 * wide.count))
                    for field in wide { header.u64(entry[keyPath: field]) }
                }
                try write(Data(header.bytes))
            }
            let size = offset - start
            let count = UInt64(entries.count)
            var end = ZipBytes()
            if count >= 0xFFFF || size >= ZipArchive.wide || start >= ZipArchive.wide {
                // ZIP64's end record, and the locator the reader finds it by, just before the plain one.
                let record = offset
                end.u32(0x0606_4B50)
                end.u64(44)                // the record's size after this field
                end.u16(45)
                end.u16(45)
                end.u32(0)
                end.u32(0)
                end.u64(count)
                end.u64(count)
                end.u64(size)
                end.u64(start)
                end.u32(0x0706_4B50)
                end.u32(0)
                end.u64(record)
                end.u32(1)
            }
            end.u32(0x0605_4B50)
            end.u16(0)
            end.u16(0)
            end.u16(UInt16(min(count, 0xFFFF)))
            end.u16(UInt16(min(count, 0xFFFF)))
            end.u32(narrow(size))
            end.u32(narrow(start))
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

        /// A 32-bit field's value: all ones when ZIP64's field holds it.
        private func narrow(_ value: UInt64) -> UInt32 { value >= ZipArchive.wide ? UInt32.max : UInt32(value) }
    }

    /// The entries of an archive this writer made, or one zipped again (DEFLATE, ZIP64 by any tool),
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
                var count = UInt64(end.u16(at: 10))
                var directorySize = UInt64(end.u32(at: 12))
                var directoryStart = UInt64(end.u32(at: 16))
                var directoryEnd = size - 22
                // ZIP64's locator, just before the end record, points to the record of the wide values.
                if size >= 22 + 20 {
                    try handle.seek(toOffset: size - 42)
                    let locator = ZipBytes(bytes: Array(try handle.read(upToCount: 20) ?? Data()))
                    if locator.u32(at: 0) == 0x0706_4B50 {
                        let record = locator.u64(at: 8)
                        guard size >= 42 + 56, record <= size - 42 - 56 else { throw bad("its ZIP64 end record is out of range") }
                        try handle.seek(toOffset: record)
                        let wide = ZipBytes(bytes: Array(try handle.read(upToCount: 56) ?? Data()))
                        guard wide.u32(at: 0) == 0x0606_4B50 else { throw bad("its ZIP64 end record is damaged") }
                        count = wide.u64(at: 32)
                        directorySize = wide.u64(at: 40)
                        directoryStart = wide.u64(at: 48)
                        directoryEnd = record
                    }
                }
                guard directoryStart <= directoryEnd, directorySize <= directoryEnd - directoryStart else {
                    throw bad("its directory is out of range")
                }
                try handle.seek(toOffset: directoryStart)
                let directory = ZipBytes(bytes: Array(try handle.read(upToCount: Int(directorySize)) ?? Data()))
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
                    let extraLength = Int(directory.u16(at: at + 30))
                    let extra = at + 46 + nameLength
                    guard extra + extraLength <= directory.bytes.count else { throw bad("its directory is damaged") }
                    guard let name = String(validating: directory.bytes[(at + 46)..<extra], as: UTF8.self)
                    else { throw bad("an entry's name is not UTF-8 (Automator writes every name in UTF-8)") }
                    var entry = Entry(name: name, crc: directory.u32(at: at + 16), size: UInt64(directory.u32(at: at + 24)),
                                      offset: UInt64(directory.u32(at: at + 42)), isDeflated: method == 8,
                                      storedSize: UInt64(directory.u32(at: at + 20)))
                    guard Self.widen(&entry, from: directory.bytes[extra..<(extra + extraLength)]) else {
                        throw bad("the entry \(name) has sizes of 4 GiB or more without their ZIP64 field")
                    }
                    entries.append(entry)
                    at = extra + extraLength + Int(directory.u16(at: at + 32))
                }
                try Self.requireOneNamePerEntry(entries, in: handle, of: path)
                self.entries = entries
            } catch let error as EvidenceError {
                throw error
            } catch {
                throw EvidenceError(.unavailable, "reading \(path) failed: \(error.localizedDescription)")
            }
        }

        /// Takes from ZIP64's extra field (id 1) the values an entry's 32-bit fields left to it (all
        /// ones), in the format's order; false when they are not there.
        private static func widen(_ entry: inout Entry, from extra: ArraySlice<UInt8>) -> Bool {
            let fields = Entry.wideFields.filter { entry[keyPath: $0] == ZipArchive.wide }
            guard !fields.isEmpty else { return true }
            let extra = ZipBytes(bytes: Array(extra))
            var at = 0
            while at + 4 <= extra.bytes.count {
                let length = Int(extra.u16(at: at + 2))
                guard extra.u16(at: at) == 1 else {
                    at += 4 + length
                    continue
                }
                guard length >= 8 * fields.count, at + 4 + length <= extra.bytes.count else { return false }
                for (index, field) in fields.enumerated() { entry[keyPath: field] = extra.u64(at: at + 4 + 8 * index) }
                return true
            }
            return false
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
            try handle.seek(toOffset: entry.offset)
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
                try handle.seek(toOffset: entry.offset + 30 + UInt64(header.u16(at: 26)) + UInt64(header.u16(at: 28)))
                let inflater = entry.isDeflated ? try Inflater() : nil
                var inflated: UInt64 = 0
                var left = entry.storedSize
                while left > 0 {
                    guard let data = try handle.read(upToCount: Int(min(left, UInt64(chunk)))), !data.isEmpty else {
                        throw damaged("is cut short")
                    }
                    left -= UInt64(data.count)
                    guard let inflater else {
                        try body(data)
                        continue
                    }
                    let inflates = try inflater.inflate(data) { part throws(EvidenceError) in
                        // Never more than the directory says: a small entry made to inflate without end is
                        // not hashed for hours.
                        inflated += UInt64(part.count)
                        guard inflated <= entry.size else {
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
    mutating func u64(_ value: UInt64) { (0..<8).forEach { bytes.append(UInt8((value >> (8 * $0)) & 0xFF)) } }

    func u16(at offset: Int) -> UInt16 { UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8 }
    func u32(at offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) } }
    func u64(at offset: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) } }
}
