import Foundation
import GRDB
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
        // In columns, aligned under the header.
        let rows = listed.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.first == ["ID", "INCIDENT", "BYTES", "SHA256", "NAME"], "\(listed.stdout)")
        #expect(rows.dropFirst().first?.prefix(3) == [id, "INC-1", "21"], "\(listed.stdout)")
        let lines = listed.stdout.split(separator: "\n").map(String.init)
        let header: Int? = lines.first.flatMap { $0.range(of: "INCIDENT") }.map { lines[0].distance(from: lines[0].startIndex, to: $0.lowerBound) }
        let column: Int? = lines.dropFirst().first.flatMap { line in
            line.range(of: "INC-1").map { line.distance(from: line.startIndex, to: $0.lowerBound) }
        }
        #expect(header != nil && header == column, "aligned: \(listed.stdout)")
        let unknown = try await AutomatorProcess.run(["evidence", "list", "INC-999", "--data", data])
        #expect(unknown.status != 0 && unknown.stderr.contains("there is no incident INC-999"), "\(unknown.stdout)\(unknown.stderr)")
        let copy = folder.url.appendingPathComponent("copy.pcap").path
        let got = try await AutomatorProcess.run(["evidence", "get", id, "-o", copy, "--data", data],
                                                 environment: ["USER": "bob"])
        #expect(got.status == 0 && got.stdout.contains("proxy capture") && got.stdout.contains("tags: network"))
        // The custody is a table: each event's action and actor start where the heading's do.
        let custodyRows: [String] = got.stdout.split(separator: "\n").drop { !$0.hasPrefix("custody:") }.dropFirst().map(String.init)
        let words: [[String]] = custodyRows.map { $0.split(separator: " ").map(String.init) }
        #expect(words.map { $0.count > 2 ? $0[2] : "" } == ["ACTION", "added", "exported", "viewed"], "\(got.stdout)")
        #expect(words.map { $0.count > 3 ? $0[3] : "" } == ["ACTOR", "cli:alice", "cli:bob", "cli:bob"], "\(got.stdout)")
        #expect(custodyRows.count == 4 && custodyRows[2].hasSuffix(" \(copy)"), "the export's destination: \(got.stdout)")
        let actorColumns = Set(custodyRows.compactMap { row in
            row.range(of: row.contains("ACTOR") ? "ACTOR" : "cli:").map { row.distance(from: row.startIndex, to: $0.lowerBound) }
        })
        #expect(actorColumns.count == 1, "aligned: \(got.stdout)")
        #expect(FileManager.default.contentsEqual(atPath: pcap, andPath: copy))
        // `-o -` is standard output, for a pipe: the content alone, and the export in the custody.
        let piped = try await AutomatorProcess.run(["evidence", "get", id, "-o", "-", "--data", data], in: folder.url,
                                                   environment: ["USER": "carol"])
        #expect(piped.status == 0 && piped.stdout == "GET /exfil HTTP/1.1\r\n", "\(piped.stdout)\(piped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("-").path))
        // Through sudo (USER root), custody names the person, not root.
        let custody = try await AutomatorProcess.run(["evidence", "get", id, "--data", data],
                                                     environment: ["USER": "root", "LOGNAME": "root", "SUDO_USER": "dave"])
        #expect(custody.stdout.contains(/exported +cli:carol +standard output/), "\(custody.stdout)")
        let viewed = try await AutomatorProcess.run(["evidence", "get", id, "--data", data], environment: ["USER": "erin"])
        #expect(viewed.stdout.contains(/viewed +cli:dave/) && !viewed.stdout.contains("cli:root"), "\(viewed.stdout)")
        // A file is replaced; a folder is refused and left as it was, never emptied to make room.
        try folder.write("copy.pcap", "an older copy")
        #expect(try await AutomatorProcess.run(["evidence", "get", id, "-o", copy, "--data", data]).status == 0)
        #expect(FileManager.default.contentsEqual(atPath: pcap, andPath: copy))
        try folder.write("cases/keep.txt", "notes")
        let cases = folder.url.appendingPathComponent("cases").path
        let refused = try await AutomatorProcess.run(["evidence", "get", id, "-o", cases, "--data", data])
        #expect(refused.status != 0 && refused.stderr.contains("it is a folder: give a file name"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: cases + "/keep.txt", encoding: .utf8) == "notes")
        // A folder given where a file is read is named as such, not as a Cocoa error number.
        let folderAdded = try await AutomatorProcess.run(["evidence", "add", "INC-1", cases, "--data", data])
        #expect(folderAdded.status == 1 && folderAdded.stderr.contains("\(cases) is a folder: give a file"), "\(folderAdded.stderr)")
        let folderVerified = try await AutomatorProcess.run(["evidence", "verify", cases])
        #expect(folderVerified.status == 1 && folderVerified.stdout.contains("\(cases) is a folder: give a file"),
                "\(folderVerified.stdout)")

        let bundle = folder.url.appendingPathComponent("INC-1.zip").path
        #expect(try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", data]).status == 0)
        // Kept from other users, as the vault's objects are, whatever the umask (022 here).
        #expect(try FileManager.default.attributesOfItem(atPath: bundle)[.posixPermissions] as? Int == 0o600)
        let unzip = try await AutomatorProcess.python("import zipfile, sys; print(zipfile.ZipFile(sys.argv[1]).testzip())",
                                                      arguments: [bundle])
        #expect(unzip.stdout == "None\n", "every CRC checks out for other tools: \(unzip.stdout)\(unzip.stderr)")
        let verified = try await AutomatorProcess.run(["evidence", "verify", bundle])
        #expect(verified.status == 0 && verified.stdout.contains("verified: 1 evidence file"), "\(verified.stdout)")
        // Pinned to the folder's key, it verifies; to another key (a forger's folder), it does not.
        let key = try #require(verified.stdout.split(separator: " ").last.map { String($0.dropLast()) })
        let pinned = try await AutomatorProcess.run(["evidence", "verify", bundle, "--public-key", key])
        #expect(pinned.status == 0, "\(pinned.stdout)")
        let other = Data((0..<32).map { UInt8($0) }).base64EncodedString()
        let forged = try await AutomatorProcess.run(["evidence", "verify", bundle, "--public-key", other])
        #expect(forged.status == 1 && forged.stdout.contains("not by the key given (--public-key)"), "\(forged.stdout)")
        // A bundle is never written over; the error says what to do.
        let again = try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", data])
        #expect(again.status == 1 && again.stderr.contains("\(bundle) exists already: choose another name, or remove it first"),
                "\(again.stderr)")

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
        #expect(caught.stdout.contains("error: \(tampered) was tampered with: evidence/\(id)/capture.pcap differs from the manifest"), "\(caught.stdout)")

        // The vault's copy damaged: a pipe cannot take bytes back, so none of it reaches standard output.
        let sha256 = try await Self.sha256(pcap)
        try folder.write("data/evidence/objects/\(sha256.prefix(2))/\(sha256.dropFirst(2))", "GET /exfi1 HTTP/1.1\r\n")
        let damaged = try await AutomatorProcess.run(["evidence", "get", id, "-o", "-", "--data", data])
        #expect(damaged.status == 1 && damaged.stdout.isEmpty && damaged.stderr.contains("is damaged"),
                "\(damaged.stdout)\(damaged.stderr)")
    }

    @Test(#"A file whose name is not UTF-8 (an attacker's) is added by its bytes, named with \255, exported and verified"#)
    func undecodableName() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        try await Self.incident(in: data)
        // Foundation's Process passes arguments as UTF-8: Python passes the bytes, as a shell would.
        let steps = try await AutomatorProcess.python(#"""
            import json, os, shutil, subprocess, sys
            automator, folder, data = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
            dropped = os.path.join(folder, b"drop\\per\xff.bin")
            open(dropped, "wb").write(b"MZ payload")
            def run(*arguments):
                done = subprocess.run([automator, *arguments], capture_output=True)
                print(json.dumps([done.returncode, done.stdout.decode(), done.stderr.decode()]))
            run("evidence", "add", "INC-1", dropped, "--data", data)
            bundle = os.path.join(folder, b"INC-1.zip")
            run("evidence", "export", "INC-1", bundle, "--data", data)
            shutil.copy(bundle, os.path.join(folder, b"INC-1\xff.zip"))
            run("evidence", "verify", os.path.join(folder, b"INC-1\xff.zip"))
            run("evidence", "export", "INC-1", os.path.join(folder, b"again\xff.zip"), "--data", data)
            """#, arguments: [AutomatorProcess.executable.path, folder.url.path, data])
        let results = try steps.stdout.split(separator: "\n").map { line -> [Any] in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
        }
        try #require(results.count == 4, "\(steps.stdout)\(steps.stderr)")
        let (added, exported, verified, refused) = (results[0], results[1], results[2], results[3])
        // The name as it is, its undecodable byte and its backslash escaped: neither reads as the other.
        #expect(added[0] as? Int == 0 && (added[1] as? String)?.contains(#"drop\\per\255.bin, 10 bytes"#) == true,
                "\(added)")
        #expect(exported[0] as? Int == 0, "\(exported)")
        #expect(verified[0] as? Int == 0 && (verified[1] as? String)?.contains(#"INC-1\255.zip verified: 1 evidence file"#)
            == true, "\(verified)")
        let listed = try await AutomatorProcess.run(["evidence", "list", "INC-1", "--data", data])
        #expect(listed.stdout.contains(#"drop\\per\255.bin"#), "\(listed.stdout)")
        // A bundle is written under the name given, or not at all.
        #expect(refused[0] as? Int == 64 && (refused[2] as? String)?.contains(#"again\255.zip is not UTF-8"#) == true,
                "\(refused)")
    }

    @Test("A journal that does not verify is not exported as the record: refused, or with --broken-journal written in the manifest, which verify fails on")
    func brokenJournal() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        try await Self.incident(in: data)
        let mail = try folder.write("mail.eml", "From: payroll@examp1e-hr.test\n")
        #expect(try await AutomatorProcess.run(["evidence", "add", "INC-1", mail, "--data", data]).status == 0)
        let database = try DatabaseQueue(path: data + "/automator.sqlite")
        try await database.write { try $0.execute(sql: "UPDATE journal SET text = 'nothing happened' WHERE sequence = 1") }

        let bundle = folder.url.appendingPathComponent("INC-1.zip").path
        let refused = try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", data])
        #expect(refused.status == 1 && refused.stderr.contains("INC-1's journal does not verify (journal entry 1")
                && refused.stderr.contains("--broken-journal"), "\(refused.stdout)\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: bundle))

        let exported = try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--broken-journal", "--data", data])
        #expect(exported.status == 0, "\(exported.stderr)")
        let verified = try await AutomatorProcess.run(["evidence", "verify", bundle])
        #expect(verified.status == 1 && verified.stdout.contains("1 evidence file and")
                && verified.stdout.contains("did not verify when it was exported (journal entry 1"),
                "\(verified.stdout)\(verified.stderr)")
    }

    @Test("A bundle repacked with compression verifies, saying it was repacked; one with a file changed names the file; a forged manifest appended is refused")
    func repacked() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        try await Self.incident(in: data)
        // 3 MiB that compress well: one chunk read inflates to several.
        let log = try folder.write("proxy.log", String(repeating: "GET /exfil HTTP/1.1 200 from 10.0.0.7\n", count: 80_000))
        #expect(try await AutomatorProcess.run(["evidence", "add", "INC-1", log, "--data", data]).status == 0)
        let bundle = folder.url.appendingPathComponent("INC-1.zip").path
        #expect(try await AutomatorProcess.run(["evidence", "export", "INC-1", bundle, "--data", data]).status == 0)
        // A colleague's re-zip, as Python's zipfile makes it: every entry deflated, a folder's entry as
        // `zip -r` adds, one file changed if asked.
        let repack = """
            import zipfile, sys
            source = zipfile.ZipFile(sys.argv[1])
            target = zipfile.ZipFile(sys.argv[2], "w", compression=zipfile.ZIP_DEFLATED)
            target.mkdir("evidence")
            for item in source.infolist():
                content = source.read(item.filename)
                if item.filename.endswith(sys.argv[3]):
                    content = content.replace(b"10.0.0.7", b"10.0.0.8", 1)
                target.writestr(item.filename, content)
            target.close()
            """
        let rezipped = folder.url.appendingPathComponent("rezipped.zip").path
        let changed = folder.url.appendingPathComponent("changed.zip").path
        _ = try await AutomatorProcess.python(repack, arguments: [bundle, rezipped, "nothing"])
        _ = try await AutomatorProcess.python(repack, arguments: [bundle, changed, "proxy.log"])

        let intact = try await AutomatorProcess.run(["evidence", "verify", rezipped])
        #expect(intact.status == 0 && intact.stdout.contains("verified: 1 evidence file"), "\(intact.stdout)")
        #expect(intact.stdout.contains("\(rezipped) was repacked (7 entries compressed, 1 folder entry added): every file's content matches "
            + "the signed manifest"), "\(intact.stdout)")
        let caught = try await AutomatorProcess.run(["evidence", "verify", changed])
        #expect(caught.status == 1 && caught.stdout.contains("/proxy.log differs from the manifest"), "\(caught.stdout)")
        // The bundle as exported says nothing of a repack.
        let exported = try await AutomatorProcess.run(["evidence", "verify", bundle])
        #expect(exported.status == 0 && !exported.stdout.contains("repacked"), "\(exported.stdout)")

        // A forged manifest appended, which unzip and zipfile extract in place of the signed one.
        let appended = folder.url.appendingPathComponent("appended.zip").path
        try FileManager.default.copyItem(atPath: bundle, toPath: appended)
        _ = try await AutomatorProcess.python("""
            import zipfile, sys
            archive = zipfile.ZipFile(sys.argv[1], "a")
            archive.writestr("manifest.json", archive.read("manifest.json").replace(b"cli", b"cli:mallory"))
            archive.close()
            """, arguments: [appended])
        let forged = try await AutomatorProcess.run(["evidence", "verify", appended])
        #expect(forged.status == 1 && forged.stdout.contains("tampered with: it holds manifest.json twice"), "\(forged.stdout)")
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
        // A line every 256 MiB, so that a person sees it move.
        let progress = added.stderr.split(separator: "\n").filter { $0.hasPrefix("evidence add \(large): ") }
        #expect(progress.count == 8 && progress.last?.hasSuffix(": 2048 of 2048 MiB (100%)") == true, "\(added.stderr)")
        // A megabyte at a time: the process's own size, well under the file's.
        #expect(peak > 0 && peak < 96 * 1024, "peak resident memory \(peak) KiB")
        print("evidence add of 2 GiB: peak resident memory \(peak / 1024) MiB")
    }

    @Test("With --store: a playbook on a serve worker keeps evidence in PostgreSQL, and the commands on another data folder add, read, export and verify it; large files in bounded memory")
    func shared() async throws {
        let workspace = try await SharedServeTests.Workspace()
        try workspace.folder.write("scripts/playbooks/keep.lua", """
            return playbook {
              name = "Keep", match = { type = "keep" },
              run = function(inc)
                local kept = inc:evidence{ name = "headers.txt", data = "Received: from evil", tags = { "mail" } }
                inc:close{ reason = "kept " .. evidence.get(kept.id).sha256 }
              end,
            }
            """)
        let worker = try await workspace.start("worker")
        let created = try await worker.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Phish", "type": "keep", "severity": "high"}"#)
        #expect(created.status == 201, "\(created.body)")
        let closed = try await SharedServeTests.waitUntilClosed(try #require(created.json["id"] as? String), on: worker)
        let headers = "Received: from evil"
        let digest = try await Self.sha256(of: headers, in: workspace.folder)
        #expect(closed["close_reason"] as? String == "kept " + digest, "\(closed)")

        // Another machine: its own data folder (the bundle's signing key), the same database.
        let data = workspace.folder.url.appendingPathComponent("analyst").path
        let store = ["--store", workspace.store, "--data", data]
        let large = workspace.folder.url.appendingPathComponent("disk.img").path
        // Sparse, and every megabyte different (a marker at its start): every chunk is sent and stored.
        #expect(FileManager.default.createFile(atPath: large, contents: nil))
        let handle = try #require(FileHandle(forWritingAtPath: large))
        for megabyte in 0..<(Self.sharedSize >> 20) {
            try handle.seek(toOffset: UInt64(megabyte) << 20)
            try handle.write(contentsOf: Data("sector \(megabyte)".utf8))
        }
        try handle.truncate(atOffset: UInt64(Self.sharedSize))
        try handle.close()
        let (added, addPeak) = try await AutomatorProcess.runMeasuringMemory(["evidence", "add", "INC-1", large] + store)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("\(Self.sharedSize) bytes"), "\(added.stdout)")
        let id = try #require(added.stdout.split(separator: " ").first.map(String.init))
        // A megabyte at a time: the process's own size, well under the file's.
        #expect(addPeak > 0 && addPeak < 96 * 1024, "peak resident memory \(addPeak) KiB")
        #expect(try workspace.psql("SELECT count(*) || ' ' || sum(length(data)) FROM evidence_chunk")
            == "\((Self.sharedSize >> 20) + 1) \(Self.sharedSize + headers.utf8.count)")

        let listed = try await AutomatorProcess.run(["evidence", "list", "INC-1"] + store)
        let rows = listed.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        #expect(listed.status == 0 && rows.contains { $0.dropFirst().prefix(2) == ["INC-1", "19"] }
            && rows.contains { $0.prefix(2) == [id, "INC-1"] }, "the headers and the image: \(listed.stdout)\(listed.stderr)")
        let copy = workspace.folder.url.appendingPathComponent("copy.img").path
        let (got, getPeak) = try await AutomatorProcess.runMeasuringMemory(["evidence", "get", id, "-o", copy] + store)
        #expect(got.status == 0 && got.stdout.contains("exported  cli"), "\(got.stdout)\(got.stderr)")
        #expect(getPeak > 0 && getPeak < 96 * 1024, "peak resident memory \(getPeak) KiB")
        #expect(FileManager.default.contentsEqual(atPath: large, andPath: copy))
        try FileManager.default.removeItem(atPath: copy)

        let bundle = workspace.folder.url.appendingPathComponent("INC-1.zip").path
        let (exported, exportPeak) = try await AutomatorProcess.runMeasuringMemory(["evidence", "export", "INC-1", bundle]
            + store)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exportPeak > 0 && exportPeak < 96 * 1024, "peak resident memory \(exportPeak) KiB")
        let verified = try await AutomatorProcess.run(["evidence", "verify", bundle])
        #expect(verified.status == 0 && verified.stdout.contains("verified: 2 evidence files"), "\(verified.stdout)")
        print("evidence on PostgreSQL, \(Self.sharedSize >> 20) MiB: peak resident memory \(addPeak / 1024) MiB adding, "
            + "\(getPeak / 1024) MiB copying out, \(exportPeak / 1024) MiB exporting")

        // A chunk changed in the database: the copy is refused, saying so, and nothing is written.
        _ = try workspace.psql("UPDATE evidence_chunk SET data = set_byte(data, 0, 1) WHERE length(data) = \(headers.utf8.count)")
        let headersID = try #require(listed.stdout.split(separator: "\n").first { $0.hasSuffix("headers.txt") }?
            .split(separator: " ").first.map(String.init))
        let refused = try await AutomatorProcess.run(["evidence", "get", headersID, "-o", copy] + store)
        #expect(refused.status == 1 && refused.stderr.contains("is damaged in the database's vault"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: copy))
        worker.terminate()
        #expect(await worker.waitForExit() == 0)
    }

    /// The large file of the PostgreSQL test: big enough that a copy in memory would show, small
    /// enough for a quick suite (the 2 GB figure is measured by hand: docs/BENCHMARKS.md).
    static let sharedSize = 256 << 20

    static func sha256(of text: String, in folder: TemporaryFolder) async throws -> String {
        try await sha256(try folder.write("sha256-input", text))
    }

    static func sha256(_ path: String) async throws -> String {
        try await AutomatorProcess.python("import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest())",
                                          arguments: [path]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
