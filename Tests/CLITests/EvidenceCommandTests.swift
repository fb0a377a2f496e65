import Foundation
import Testing

@Suite("automator evidence: add, list, get, export, verify; 2 GB in bounded memory", .serialized, .timeLimit(.minutes(3)))
struct EvidenceCommandTests {
    static func incident(in data: String) async throws {
        let created = try await AutomatorProcess.run(["incident", "create", "--data", data, "--title", "Exfiltration",
                                                      "--type", "dlp", "--severity", "high"])
        #expect(created.status == 0, "\(created.stderr)")
    }

    @Test("A file kept, listed, viewed and copied out with its custody; the bundle verifies, a tampered one does not")
    func roundTrip() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        try await Self.incident(in: data)
        try folder.write("capture.pcap", "GET /exfil HTTP/1.1\r\n")
        let pcap = folder.url.appendingPathComponent("capture.pcap").path
        let added = try await AutomatorProcess.run(["evidence", "add", "INC-1", pcap, "--note", "proxy capture",
                                                    "--tag", "network", "--data", data], environment: ["USER": "alice"])
        #expect(added.status == 0, "\(added.stderr)")
        let id = try #require(added.stdout.split(separator: " ").first.map(String.init))
        #expect(id.hasPrefix("EV-"))
        #expect(added.stdout.contains("sha256 \(try await Self.sha256(pcap))"), "\(added.stdout)")

        let listed = try await AutomatorProcess.run(["evidence", "list", "INC-1", "--data", data])
        #expect(listed.stdout.contains("\(id)  INC-1  21  "), "\(listed.stdout)")
        let copy = folder.url.appendingPathComponent("copy.pcap").path
        let got = try await AutomatorProcess.run(["evidence", "get", id, "-o", copy, "--data", data],
                                                 environment: ["USER": "bob"])
        #expect(got.status == 0 && got.stdout.contains("proxy capture") && got.stdout.contains("tags: network"))
        #expect(got.stdout.contains("added  cli:alice") && got.stdout.contains("exported  cli:bob  \(copy)")
            && got.stdout.contains("viewed  cli:bob"), "\(got.stdout)")
        #expect(FileManager.default.contentsEqual(atPath: pcap, andPath: copy))

        let bundle = folder.url.appendingPathComponent("INC-1.zip").path
        #expect(try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", data]).status == 0)
        let unzip = try await AutomatorProcess.python("import zipfile, sys; print(zipfile.ZipFile(sys.argv[1]).testzip())",
                                                      arguments: [bundle])
        #expect(unzip.stdout == "None\n", "every CRC checks out for other tools: \(unzip.stdout)\(unzip.stderr)")
        let verified = try await AutomatorProcess.run(["evidence", "verify", bundle])
        #expect(verified.status == 0 && verified.stdout.contains("verified: 1 evidence file"), "\(verified.stdout)")

        // Python's zipfile repacks the bundle with one byte of the capture changed.
        let tampered = folder.url.appendingPathComponent("tampered.zip").path
        _ = try await AutomatorProcess.python("""
            import zipfile, sys
            source, target = zipfile.ZipFile(sys.argv[1]), zipfile.ZipFile(sys.argv[2], "w")
            for item in source.infolist():
                data = source.read(item.filename)
                target.writestr(item, data.replace(b"exfil", b"exfi1") if item.filename.endswith(".pcap") else data)
            target.close()
            """, arguments: [bundle, tampered])
        let caught = try await AutomatorProcess.run(["evidence", "verify", tampered])
        #expect(caught.status == 1)
        #expect(caught.stdout.contains("tampered with: evidence/\(id)/capture.pcap differs from the manifest"), "\(caught.stdout)")
    }

    @Test("A 2 GB file is added with bounded memory")
    func large() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        try await Self.incident(in: data)
        let large = folder.url.appendingPathComponent("disk.img").path
        // Sparse: 2 GiB of zeros that take no disk until the vault copies them.
        #expect(FileManager.default.createFile(atPath: large, contents: Data("MBR".utf8)))
        let handle = try #require(FileHandle(forWritingAtPath: large))
        try handle.truncate(atOffset: 2 << 30)
        try handle.close()
        let (added, peak) = try await AutomatorProcess.runMeasuringMemory(["evidence", "add", "INC-1", large, "--data", data])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("2147483648 bytes"))
        // A megabyte at a time: the process's own size, well under the file's.
        #expect(peak > 0 && peak < 96 * 1024, "peak resident memory \(peak) KiB")
        print("evidence add of 2 GiB: peak resident memory \(peak / 1024) MiB")
    }

    static func sha256(_ path: String) async throws -> String {
        try await AutomatorProcess.python("import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())",
                                          arguments: [path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
