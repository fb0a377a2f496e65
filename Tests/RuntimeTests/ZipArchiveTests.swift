@testable import AutomatorRuntime
import Foundation
import Testing

/// The bundle's container past ZIP's 32-bit limits (a memory image of 4 GiB or more, 65,535 files or
/// more), checked against Python's zipfile, which reads and writes ZIP64 as the other tools do.
@Suite("ZIP archives: ZIP64 for entries of 4 GiB or more, entries past 4 GiB and 65,535 entries or more", .timeLimit(.minutes(3)))
struct ZipArchiveTests {
    @Test("An entry of more than 4 GiB and one after it take ZIP64's fields; the reader and Python read both whole")
    func largeEntry() async throws {
        let folder = try ScratchFolder()
        let path = folder.path + "/memory.zip"
        let size = Int64(ZipArchive.wide) + 4097
        let writer = try ZipArchive.Writer(path: path)
        try await writer.add("evidence/EV-1/memory.img", size: size) { write throws(EvidenceError) in
            var left = size
            var chunk = Data(count: ZipArchive.chunk)
            chunk.replaceSubrange(0..<5, with: Array("BEGIN".utf8))
            while left > 0 {
                let part = Int(min(left, Int64(chunk.count)))
                if left <= Int64(chunk.count) { chunk[part - 1] = UInt8(ascii: "Z") }
                try write(chunk.prefix(part))
                chunk.replaceSubrange(0..<5, with: [UInt8](repeating: 0, count: 5))
                left -= Int64(part)
            }
        }
        try writer.add("journal.json", bytes: Array("[]".utf8))
        try writer.finish()

        let reader = try ZipArchive.Reader(path: LocalPath(path))
        #expect(reader.entries.map(\.name) == ["evidence/EV-1/memory.img", "journal.json"])
        #expect(reader.entries.map(\.size) == [UInt64(size), 2])
        #expect(reader.entries[1].offset > ZipArchive.wide)
        #expect(try reader.bytes(of: "journal.json") == Array("[]".utf8))
        var read: Int64 = 0
        var ends: [UInt8] = []
        try reader.content(of: reader.entries[0]) { data in
            if read == 0 { ends += data.prefix(5) }
            read += Int64(data.count)
            if read == size { ends += data.suffix(1) }
        }
        #expect(read == size)
        #expect(ends == Array("BEGINZ".utf8))

        let python = try EvidenceTests.shell("""
            python3 -c '
            import sys, zipfile
            archive = zipfile.ZipFile(sys.argv[1])
            print([(entry.filename, entry.file_size) for entry in archive.infolist()])
            print(archive.read("journal.json").decode())
            print(archive.testzip())
            ' memory.zip
            """, in: folder.path)
        #expect(python.status == 0, "\(python.output)")
        #expect(python.output == "[('evidence/EV-1/memory.img', \(size)), ('journal.json', 2)]\n[]\nNone\n")
        try FileManager.default.removeItem(atPath: path)
    }

    @Test("65,535 entries or more take ZIP64's end record: Python reads the writer's, and the reader reads Python's")
    func manyEntries() throws {
        let folder = try ScratchFolder()
        let count = 70_000
        let writer = try ZipArchive.Writer(path: folder.path + "/ours.zip")
        for index in 0..<count { try writer.add("evidence/\(index).txt", bytes: Array("\(index)".utf8)) }
        try writer.finish()
        let python = try EvidenceTests.shell("""
            python3 -c '
            import zipfile
            ours = zipfile.ZipFile("ours.zip")
            print(len(ours.infolist()), ours.read("evidence/69999.txt").decode())
            with zipfile.ZipFile("theirs.zip", "w") as theirs:
                for index in range(70000): theirs.writestr(f"evidence/{index}.txt", str(index))
            '
            """, in: folder.path)
        #expect(python.status == 0, "\(python.output)")
        #expect(python.output == "70000 69999\n")
        let theirs = try ZipArchive.Reader(path: LocalPath(folder.path + "/theirs.zip"))
        #expect(theirs.entries.count == count)
        #expect(try theirs.bytes(of: "evidence/65536.txt") == Array("65536".utf8))
    }

    @Test("An archive that needs no ZIP64 is plain ZIP 2.0, with no ZIP64 record")
    func plainWhenSmall() throws {
        let folder = try ScratchFolder()
        let path = folder.path + "/small.zip"
        let writer = try ZipArchive.Writer(path: path)
        try writer.add("journal.json", bytes: Array("[]".utf8))
        try writer.finish()
        let bytes = ZipBytes(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        #expect(bytes.u16(at: 4) == 20)
        #expect(!Self.contains(bytes.bytes, [0x50, 0x4B, 0x06, 0x06]))
        #expect(try ZipArchive.Reader(path: LocalPath(path)).entries.map(\.size) == [2])
    }

    @Test("A size of all ones without its ZIP64 field, a ZIP64 locator out of range, and content longer or shorter than its record are refused")
    func damaged() async throws {
        let folder = try ScratchFolder()
        let path = folder.path + "/small.zip"
        let writer = try ZipArchive.Writer(path: path)
        try writer.add("journal.json", bytes: Array("[]".utf8))
        try writer.finish()
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let directory = try #require(Self.find(original, [0x50, 0x4B, 0x01, 0x02]))

        var unwidened = original
        unwidened.replaceSubrange((directory + 24)..<(directory + 28), with: [0xFF, 0xFF, 0xFF, 0xFF])
        try Data(unwidened).write(to: URL(fileURLWithPath: folder.path + "/unwidened.zip"))
        #expect { try ZipArchive.Reader(path: LocalPath(folder.path + "/unwidened.zip")) } throws: { error in
            (error as? EvidenceError)?.description.contains("4 GiB or more without their ZIP64 field") == true
        }

        // A ZIP64 locator pointing past the file, put in front of the end record.
        var locator = ZipBytes()
        locator.u32(0x0706_4B50)
        locator.u32(0)
        locator.u64(1 << 40)
        locator.u32(1)
        let end = original.count - 22
        try Data(original[..<end] + locator.bytes + original[end...]).write(to: URL(fileURLWithPath: folder.path + "/far.zip"))
        #expect { try ZipArchive.Reader(path: LocalPath(folder.path + "/far.zip")) } throws: { error in
            (error as? EvidenceError)?.description.contains("ZIP64 end record is out of range") == true
        }

        for given in [5, 20] {
            let short = try ZipArchive.Writer(path: folder.path + "/\(given).zip")
            await #expect { try await short.add("memory.img", size: 10) { write throws(EvidenceError) in
                try write(Data(count: given))
            } } throws: { error in
                (error as? EvidenceError)?.description == "memory.img is \(given) bytes, but its record in the store "
                    + "says 10: the record was changed. Nothing was exported"
            }
        }
    }

    private static func find(_ bytes: [UInt8], _ needle: [UInt8]) -> Int? {
        bytes.indices.first { bytes[$0...].starts(with: needle) }
    }

    private static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool { find(bytes, needle) != nil }
}
