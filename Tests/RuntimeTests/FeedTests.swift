@testable import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// A temporary folder for feed files, removed at the end of the test.
private final class FeedFolder {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("automator-feeds-\(UUID())").path

    init() throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `text` to `name` in the folder (replacing it by a rename, as feed fetchers do);
    /// returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
        return file
    }
}

extension FeedSet {
    /// Loaded now, logging nowhere: what most tests of the feeds' contents want.
    convenience init(feeds: [Feed]) {
        self.init(feeds: feeds, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }
}

private extension FeedMatches {
    /// `feed (verdict): comment` for each match.
    var lines: [String] { map(\.description) }
}

@Suite("Feeds: formats, index, reload")
struct FeedTests {
    // MARK: Formats

    @Test("A text feed: every type detected, comments kept, broken lines reported with file:line and skipped")
    func textFeed() throws {
        let folder = try FeedFolder()
        let path = try folder.write("list.txt", """
            \u{FEFF}# A header comment
            ; and another

            198.51.100.7
            198.51.100.0/24 ; SBL000001
            2001:DB8:0:0:0:0:0:1   # scanner
            2001:db8::/32
            Evil.Example.  phishing kit
            https://EVIL.example:8443/Login?User=A#Top
            44D88612FEA8A8F36DE82E1278ABB02F
            3395856ce81f2b7382dee72602f798b642f14140 sha-1
            275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f
            Bob@Mail.Example
            cve-2021-44228\tlog4shell
            10.1.2.3/8
            1.2.3.999
            not a domain
            example
            \t
            bücher.example
            192.0.2.1/33
            evil™.example

            """)
        let contents = try Feed(name: "list", verdict: .malicious, path: path, format: .text).load()
        #expect(contents.entries.map(\.description) == [
            "ipv4 198.51.100.7",
            "ipv4 198.51.100.0/24 # SBL000001",
            "ipv6 2001:db8::1 # scanner",
            "ipv6 2001:db8::/32",
            "domain evil.example # phishing kit",
            "url https://evil.example:8443/Login?User=A#Top",
            "md5 44d88612fea8a8f36de82e1278abb02f",
            "sha1 3395856ce81f2b7382dee72602f798b642f14140 # sha-1",
            "sha256 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f",
            "email bob@mail.example",
            "cve CVE-2021-44228 # log4shell",
            "domain xn--bcher-kva.example",
        ])
        #expect(contents.problems.map(\.description) == [
            "\(path):15: \"10.1.2.3/8\" has host bits set: write 10.0.0.0/8 for the network, or 10.1.2.3/32 for the address",
            "\(path):16: \"1.2.3.999\" is not an IPv4 or IPv6 address or network (198.51.100.7, 198.51.100.0/24, "
                + "2001:db8::1, 2001:db8::/32)",
            "\(path):17: \"not\" is not an IP address, network, domain, URL, e-mail address, hash or CVE: \"not\" is not "
                + "a domain name (two or more labels of 1 to 63 letters, digits or hyphens, the last not all digits)",
            "\(path):18: \"example\" is not an IP address, network, domain, URL, e-mail address, hash or CVE: "
                + "\"example\" is not a domain name (two or more labels of 1 to 63 letters, digits or hyphens, the last "
                + "not all digits)",
            "\(path):21: the prefix length of \"192.0.2.1/33\" must be 0 to 32",
            "\(path):22: \"evil™.example\" is not an IP address, network, domain, URL, e-mail address, hash or CVE: "
                + "\"evil™.example\" is not a domain name: it has punctuation, symbols or spaces that are not ASCII",
        ])
        #expect(contents.problemCount == 6)
    }

    @Test("A file in the wrong format keeps the first 100 problems and counts them all")
    func problemCap() throws {
        let folder = try FeedFolder()
        let path = try folder.write("wrong.txt", String(repeating: "{\"not\": \"a list\"}\n", count: 150))
        let contents = try Feed(name: "wrong", verdict: .malicious, path: path, format: .text).load()
        #expect(contents.entries.isEmpty)
        #expect(contents.problems.count == 100)
        #expect(contents.problemCount == 150)
        #expect(contents.problems.last?.line == 100)
    }

    @Test("A CSV feed: quoted fields with commas, quotes and line breaks; a type column; broken records skipped")
    func csvFeed() throws {
        let folder = try FeedFolder()
        let path = try folder.write("feed.csv", #"""
            # abuse.ch style preamble
            id, Indicator ,Kind,Reason\#r
            1,198.51.100.7,ipv4,"scanner, seen twice"\#r
            2,evil.example,,"phishing kit ""PayPal"""
            3,"http://EVIL.example/a,b",url,"two
            lines"
            4,2001:db8::/48,ip-dst,

            5,44d88612fea8a8f36de82e1278abb02f,hash,eicar
            6,198.51.100.8,ipv6,wrong type
            7,198.51.100.9,port,unknown type
            8,ab"c,domain,quote inside
            9,"abc"d,domain,text after quote
            10,short
            11,,domain,empty
            12,x.example,domain,"never closed
            13,y.example,domain,lost
            """#)
        let feed = Feed(name: "csv", verdict: .suspicious, path: path,
                        format: .csv(CSVColumns(value: "indicator", type: "kind", comment: "REASON")))
        let contents = try feed.load()
        #expect(contents.entries.map(\.description) == [
            "ipv4 198.51.100.7 # scanner, seen twice",
            "domain evil.example # phishing kit \"PayPal\"",
            "url http://evil.example/a,b # two\nlines",
            "ipv6 2001:db8::/48",
            "md5 44d88612fea8a8f36de82e1278abb02f # eicar",
        ])
        #expect(contents.problems.map(\.description) == [
            "\(path):10: \"198.51.100.8\" is an ipv4, not an ipv6: correct the value or its type",
            "\(path):11: the type \"port\" is not one read: use ipv4, ipv6, domain, url, email, md5, sha1, sha256, "
                + "sha512, cve, ip, ip-src, ip-dst, cidr, hostname, fqdn, hash, email-src, email-dst, vulnerability, "
                + "or leave it empty",
            "\(path):12: a quote inside an unquoted field: quote the whole field, and double the quotes inside it (\"\")",
            "\(path):13: text after a closing quote: quote the whole field, and double the quotes inside it (\"\")",
            "\(path):14: 2 fields where the columns read need 4: quote fields that hold commas",
            "\(path):15: the indicator column is empty",
            "\(path):16: the quoted field opened here is never closed: close it with a double quote (the rest of the "
                + "file was skipped)",
        ])
    }

    @Test("A CSV feed with another separator: semicolons, tabs; quoted fields may hold it")
    func csvSeparators() throws {
        let folder = try FeedFolder()
        let semicolons = try folder.write("semicolons.csv", """
            indicator;kind;reason
            198.51.100.7;ipv4;"scanner; seen twice"
            evil.example;;phishing, kit
            2001:db8::1;ip
            """)
        let tabs = try folder.write("tabs.csv", "indicator\treason\n198.51.100.8\t spaced out \nbad.example\t\n")
        let columns = CSVColumns(value: "indicator", type: "kind", comment: "reason", separator: ";")
        let contents = try Feed(name: "semi", verdict: .malicious, path: semicolons, format: .csv(columns)).load()
        #expect(contents.entries.map(\.description) == [
            "ipv4 198.51.100.7 # scanner; seen twice",
            "domain evil.example # phishing, kit",
        ])
        #expect(contents.problems.map(\.description) == [
            "\(semicolons):4: 2 fields where the columns read need 3: quote fields that hold \";\"",
        ])
        let tabbed = try Feed(name: "tabs", verdict: .malicious, path: tabs,
                              format: .csv(CSVColumns(value: "indicator", comment: "reason", separator: "\t"))).load()
        #expect(tabbed.entries.map(\.description) == ["ipv4 198.51.100.8 # spaced out", "domain bad.example"])

        // Read with the default comma, the header is one column: the error says which separator it has.
        let comma = Feed(name: "semi", verdict: .malicious, path: semicolons, format: .csv(CSVColumns(value: "indicator")))
        #expect(throws: FeedError(comma, "the header of \(semicolons) has no column \"indicator\" for the value; it has "
            + "\"indicator;kind;reason\": name one of them in CSVColumns(value:), or set the separator to ;")) {
            try comma.load()
        }
        let quote = Feed(name: "semi", verdict: .malicious, path: semicolons,
                         format: .csv(CSVColumns(value: "indicator", separator: "\"")))
        #expect(throws: FeedError(quote, "the separator \"\\\"\" cannot separate CSV fields: use one ASCII character "
            + "but a double quote or a line break, such as ; or a tab")) { try quote.load() }
    }

    @Test("The configuration's options set a CSV feed's columns and separator; a bad separator names its line")
    func csvSeparatorFromConfiguration() throws {
        let folder = try FeedFolder()
        try folder.write("semicolons.csv", "indicator;reason\n198.51.100.7;scanner\n")
        try folder.write("tabs.csv", "value\tnote\nevil.example\tphishing\n")
        let path = try folder.write("automator.yml", """
            feeds:
              - name: semi
                path: semicolons.csv
                verdict: malicious
                options: { value: indicator, comment: reason, separator: ";" }
              - name: tabs
                path: tabs.csv
                verdict: suspicious
                options:
                  comment: note
                  separator: tab
            """)
        let configuration = try IntelConfiguration(file: path)
        let feeds = FeedSet(configuration.feeds, logger: Logger(label: "feeds"))
        #expect(feeds.statuses.map(\.entryCount) == [1, 1])
        #expect(feeds.index.verdicts(for: [(.ipv4, "198.51.100.7")])[0].map(\.reason) == ["(scanner)"])
        #expect(feeds.index.matches(.domain, "evil.example").lines == ["tabs (suspicious): phishing"])

        for separator in ["\"ab\"", "'\"'", "\"é\""] {
            let bad = try folder.write("bad.yml", """
                feeds:
                  - name: semi
                    path: semicolons.csv
                    verdict: malicious
                    options: { value: indicator, separator: \(separator) }
                """)
            let error = #expect(throws: ConfigurationError.self) { try IntelConfiguration(file: bad) }
            #expect(error?.description == "\(bad):5: feeds[0].options.separator: one ASCII character but a double "
                + "quote (\";\", \"|\"), or tab, expected")
        }
    }

    @Test("A CSV header without a configured column fails the whole feed, naming the columns it has")
    func csvMissingColumn() throws {
        let folder = try FeedFolder()
        let path = try folder.write("feed.csv", "value,why\n198.51.100.7,scanner\n")
        let feed = Feed(name: "csv", verdict: .malicious, path: path,
                        format: .csv(CSVColumns(value: "value", comment: "reason")))
        #expect(throws: FeedError(feed, "the header of \(path) has no column \"reason\" for the comment; it has "
            + "\"value\", \"why\": name one of them in CSVColumns(comment:)")) { try feed.load() }
    }

    @Test("A STIX bundle: equality patterns and their ORs; other patterns reported by object id and skipped")
    func stixFeed() throws {
        let folder = try FeedFolder()
        let path = try folder.write("bundle.json", #"""
            {"type": "bundle", "id": "bundle--1", "objects": [
              {"type": "indicator", "id": "indicator--a", "name": "C2", "pattern_type": "stix",
               "pattern": "[ipv4-addr:value = '198.51.100.7']"},
              {"type": "indicator", "id": "indicator--b", "description": "kit",
               "pattern": "[domain-name:value = 'Evil.Example' OR url:value = 'HTTP://evil.example/a\\'b']"},
              {"type": "indicator", "id": "indicator--c", "name": "dropper",
               "pattern": "[file:hashes.'SHA-256' = '275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F'] OR ([file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f'])"},
              {"type": "indicator", "id": "indicator--d",
               "pattern": "[ipv6-addr:value = '2001:db8::/32' OR file:name = 'x.exe']"},
              {"type": "indicator", "id": "indicator--e",
               "pattern": "[ipv4-addr:value = '203.0.113.1' AND domain-name:value = 'x.example']"},
              {"type": "indicator", "id": "indicator--f",
               "pattern": "[ipv4-addr:value = '203.0.113.2'] WITHIN 60 SECONDS"},
              {"type": "indicator", "id": "indicator--g",
               "pattern": "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"},
              {"type": "indicator", "id": "indicator--h", "pattern_type": "snort", "pattern": "alert tcp any any"},
              {"type": "indicator", "id": "indicator--i", "revoked": true, "pattern": "[ipv4-addr:value = '203.0.113.3']"},
              {"type": "indicator", "id": "indicator--j", "valid_until": "2001-01-01T00:00:00Z",
               "pattern": "[ipv4-addr:value = '203.0.113.4']"},
              {"type": "indicator", "id": "indicator--k", "valid_until": "2999-01-01T00:00:00.000Z",
               "pattern": "[email-addr:value = 'a@Evil.Example']"},
              {"type": "indicator", "id": "indicator--l", "pattern": "[ipv4-addr:value = 'evil.example']"},
              {"type": "indicator", "id": "indicator--m"},
              {"type": "malware", "id": "malware--1", "name": "not an indicator"},
              "junk"
            ]}
            """#)
        let contents = try Feed(name: "stix", verdict: .malicious, path: path, format: .stix).load()
        #expect(contents.entries.map(\.description) == [
            "ipv4 198.51.100.7 # C2",
            "domain evil.example # kit",
            "url http://evil.example/a'b # kit",
            "sha256 275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f # dropper",
            "md5 44d88612fea8a8f36de82e1278abb02f # dropper",
            "ipv6 2001:db8::/32",
            "email a@evil.example",
        ])
        let readable = "only comparisons such as [ipv4-addr:value = '198.51.100.7'], joined by OR, are read"
        #expect(contents.problems.map(\.description) == [
            "\(path): indicator--d: file:name is not read (ipv4-addr:value, ipv6-addr:value, domain-name:value, "
                + "url:value, email-addr:value and file:hashes.MD5/'SHA-1'/'SHA-256'/'SHA-512' are)",
            "\(path): indicator--e: unsupported pattern (AND: only OR is read between comparisons): \(readable)",
            "\(path): indicator--f: unsupported pattern (WITHIN: only OR is read between comparisons): \(readable)",
            "\(path): indicator--g: unsupported pattern (ISSUBSET after ipv4-addr:value: only = is read): \(readable)",
            "\(path): indicator--h: pattern_type \"snort\" is not read: only STIX patterns are",
            "\(path): indicator--l: \"evil.example\" is not an IPv4 or IPv6 address or network (198.51.100.7, "
                + "198.51.100.0/24, 2001:db8::1, 2001:db8::/32)",
            "\(path): indicator--m: has no pattern",
            "\(path): objects[14]: is not a JSON object",
        ])
    }

    @Test("A file that is not a STIX bundle fails the whole feed")
    func stixNotABundle() throws {
        let folder = try FeedFolder()
        let path = try folder.write("bundle.json", #"{"type": "indicator"}"#)
        let feed = Feed(name: "stix", verdict: .malicious, path: path, format: .stix)
        #expect(throws: FeedError(feed, "\(path) is not a STIX 2.1 bundle: it needs \"type\": \"bundle\" and an "
            + "\"objects\" array")) { try feed.load() }
    }

    @Test("A MISP feed: the manifest's events, their attributes and objects' attributes with to_ids")
    func mispFeed() throws {
        let folder = try FeedFolder()
        let first = "5f4d1e2a-0000-4000-8000-000000000001"
        let second = "5f4d1e2a-0000-4000-8000-000000000002"
        let missing = "5f4d1e2a-0000-4000-8000-000000000003"
        try folder.write("misp/manifest.json", """
            {"\(second)": {"info": "second"}, "\(first)": {"info": "first"}, "\(missing)": {"info": "gone"},
             "../../etc/passwd": {"info": "escape"}}
            """)
        try folder.write("misp/\(first).json", """
            {"Event": {"uuid": "\(first)", "info": "Emotet wave", "Attribute": [
              {"uuid": "a-1", "type": "ip-dst", "value": "198.51.100.7", "to_ids": true, "comment": ""},
              {"uuid": "a-2", "type": "ip-dst|port", "value": "2001:db8::1|443", "to_ids": true, "comment": "C2"},
              {"uuid": "a-3", "type": "domain|ip", "value": "evil.example|203.0.113.5", "to_ids": true},
              {"uuid": "a-4", "type": "hostname", "value": "www.evil.example", "to_ids": false},
              {"uuid": "a-5", "type": "url", "value": "http://evil.example/x", "to_ids": "1", "deleted": true},
              {"uuid": "a-6", "type": "text", "value": "not an indicator", "to_ids": true},
              {"uuid": "a-7", "type": "sha256", "value": "abc", "to_ids": true},
              {"uuid": "a-8", "type": "ip-src", "value": "192.0.2.0/24", "to_ids": "1"}
            ], "Object": [
              {"name": "file", "Attribute": [
                {"uuid": "o-1", "type": "filename|md5", "value": "x.exe|44D88612FEA8A8F36DE82E1278ABB02F", "to_ids": true},
                {"uuid": "o-2", "type": "vulnerability", "value": "CVE-2017-0144", "to_ids": true}
              ]}
            ]}}
            """)
        try folder.write("misp/\(second).json", #"{"event": {}}"#)
        let path = folder.path + "/misp"
        let contents = try Feed(name: "misp", verdict: .malicious, path: path, format: .misp).load()
        #expect(contents.entries.map(\.description) == [
            "ipv4 198.51.100.7 # Emotet wave",
            "ipv6 2001:db8::1 # C2",
            "domain evil.example # Emotet wave",
            "ipv4 203.0.113.5 # Emotet wave",
            "ipv4 192.0.2.0/24 # Emotet wave",
            "md5 44d88612fea8a8f36de82e1278abb02f # Emotet wave",
            "cve CVE-2017-0144 # Emotet wave",
        ])
        #expect(contents.problems.map(\.description) == [
            "\(path)/manifest.json: ../../etc/passwd: is not an event uuid",
            "\(path)/\(first).json: a-7: sha256: \"abc\" is not an MD5, SHA-1, SHA-256 or SHA-512 hash (32, 40, 64 "
                + "or 128 hex digits)",
            "\(path)/\(second).json: \(second): is not a MISP event ({\"Event\": {...}}): fetch the feed again",
            "\(path)/\(missing).json: \(missing): the manifest lists this event, but cannot read "
                + "\(path)/\(missing).json: No such file or directory: fetch the feed again",
        ])
    }

    @Test("A MISP folder without a manifest fails the whole feed")
    func mispWithoutManifest() throws {
        let folder = try FeedFolder()
        let feed = Feed(name: "misp", verdict: .malicious, path: folder.path, format: .misp)
        #expect(throws: FeedError(feed, "cannot read \(folder.path)/manifest.json: No such file or directory; check the "
            + "feed's path and the file's permissions")) { try feed.load() }
    }

    // MARK: The index

    @Test("IPv4 networks: containment at the edges, nesting, /0 and /32")
    func ipv4Networks() throws {
        let folder = try FeedFolder()
        let drop = try folder.write("drop.txt", """
            10.0.0.0/8 ; wide
            10.1.0.0/16 ; narrow
            10.1.2.3/32 ; host
            10.1.2.3 ; host
            198.51.100.0/31 ; pair
            255.255.255.255 ; last
            """)
        let all = try folder.write("all.txt", "0.0.0.0/0 everything\n")
        let feeds = FeedSet(feeds: [
            Feed(name: "drop", verdict: .malicious, path: drop, format: .text),
            Feed(name: "all", verdict: .suspicious, path: all, format: .text),
        ])
        let index = feeds.index
        let everything = "all (suspicious): everything"
        #expect(index.matches(.ipv4, "10.1.2.3").lines == [
            "drop (malicious): wide", "drop (malicious): narrow", "drop (malicious): host", everything,
        ])
        #expect(index.matches(.ipv4, "10.1.255.255").lines == ["drop (malicious): wide", "drop (malicious): narrow", everything])
        #expect(index.matches(.ipv4, "10.2.0.0").lines == ["drop (malicious): wide", everything])
        #expect(index.matches(.ipv4, "10.0.0.0").lines == ["drop (malicious): wide", everything])
        #expect(index.matches(.ipv4, "10.255.255.255").lines == ["drop (malicious): wide", everything])
        #expect(index.matches(.ipv4, "9.255.255.255").lines == [everything])
        #expect(index.matches(.ipv4, "11.0.0.0").lines == [everything])
        #expect(index.matches(.ipv4, "198.51.100.1").lines == ["drop (malicious): pair", everything])
        #expect(index.matches(.ipv4, "198.51.100.2").lines == [everything])
        #expect(index.matches(.ipv4, "255.255.255.255").lines == ["drop (malicious): last", everything])
        #expect(index.matches(.ipv4, "0.0.0.0").lines == [everything])
        #expect(index.matches(.ipv4, "10.1.2.300").isEmpty)
        #expect(index.matches(.ipv6, "10.1.2.3").isEmpty)
        #expect(index.count == 6)
    }

    @Test("IPv6 networks: containment at the edges, nesting, /0-less misses and /128")
    func ipv6Networks() throws {
        let folder = try FeedFolder()
        let path = try folder.write("v6.txt", """
            2001:db8::/32 doc
            2001:db8:1::/48 site
            2001:db8:1:2::/64 subnet
            2001:db8:1:2::7/128 host
            ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff last
            ::/127 low
            2001:db8:1:2::7/64 typo
            """)
        let feeds = FeedSet(feeds: [Feed(name: "v6", verdict: .malicious, path: path, format: .text)])
        #expect(feeds.statuses[0].problems.map(\.description) == [
            "\(path):7: \"2001:db8:1:2::7/64\" has host bits set: write 2001:db8:1:2::/64 for the network, or "
                + "2001:db8:1:2::7/128 for the address",
        ])
        let index = feeds.index
        #expect(index.matches(.ipv6, "2001:db8:1:2::7").lines == [
            "v6 (malicious): doc", "v6 (malicious): site", "v6 (malicious): subnet", "v6 (malicious): host",
        ])
        #expect(index.matches(.ipv6, "2001:DB8:1:2:0:0:0:8").lines == [
            "v6 (malicious): doc", "v6 (malicious): site", "v6 (malicious): subnet",
        ])
        #expect(index.matches(.ipv6, "2001:db8:1:2:ffff:ffff:ffff:ffff").lines == [
            "v6 (malicious): doc", "v6 (malicious): site", "v6 (malicious): subnet",
        ])
        #expect(index.matches(.ipv6, "2001:db8:1:3::").lines == ["v6 (malicious): doc", "v6 (malicious): site"])
        #expect(index.matches(.ipv6, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff").lines == ["v6 (malicious): doc"])
        #expect(index.matches(.ipv6, "2001:db9::").isEmpty)
        #expect(index.matches(.ipv6, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff").isEmpty)
        #expect(index.matches(.ipv6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").lines == ["v6 (malicious): last"])
        #expect(index.matches(.ipv6, "::1").lines == ["v6 (malicious): low"])
        #expect(index.matches(.ipv6, "::2").isEmpty)
        #expect(index.matches(.ipv6, "2001:db8::1::2").isEmpty)
    }

    @Test("Random nested networks: the index answers as a scan of every network does")
    func networksAgainstScan() throws {
        // Networks crowded into 10.0.0.0/16, so they nest and repeat; a fixed generator.
        var state: UInt64 = 0x5EED
        func next() -> UInt32 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt32(truncatingIfNeeded: state >> 33)
        }
        var networks: [(network: UInt32, length: Int, comment: String)] = []
        for number in 0..<400 {
            let length = 16 + Int(next() % 17)
            let mask: UInt32 = .max << (32 - length)
            networks.append(((0x0A00_0000 | next() & 0xFFFF) & mask, length, "n\(number % 50)"))
        }
        func text(_ address: UInt32) -> String {
            "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
        }
        let folder = try FeedFolder()
        let path = try folder.write("networks.txt", networks.map { "\(text($0.network))/\($0.length) \($0.comment)" }
            .joined(separator: "\n"))
        let index = FeedSet(feeds: [Feed(name: "n", verdict: .malicious, path: path, format: .text)]).index
        let firstSeen = Dictionary(networks.map(\.comment).enumerated().map { ($1, $0) }) { first, _ in first }
        for probe in 0..<3_000 {
            let address = probe < 2_000 ? 0x0A00_0000 | next() & 0xFFFF : 0x09FF_F000 &+ next() % 0x0002_2000
            let expected = Set(networks.filter { address & (.max << (32 - $0.length)) == $0.network }.map(\.comment))
                .sorted { firstSeen[$0]! < firstSeen[$1]! }
            #expect(index.matches(.ipv4, text(address)).map { $0.comment ?? "" } == expected, "\(text(address))")
        }
    }

    @Test("Random nested IPv6 networks of many lengths in a few allocations: the index answers as a scan does")
    func ipv6NetworksAgainstScan() throws {
        var state: UInt64 = 0x5EED6
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
        func random() -> UInt128 {
            let allocations: [UInt128] = [0x2001_0db8, 0x2a02_0db8, 0x2c0f_0db8]
            return allocations[Int(next() >> 60) % 3] << 96 | UInt128(next() & 0xFF) << 88 | UInt128(next()) << 24
        }
        func mask(_ length: Int) -> UInt128 { length == 0 ? 0 : .max << (128 - length) }
        var networks: [(network: UInt128, length: Int, comment: String)] = []
        for number in 0..<400 {
            let length = [16, 28, 32, 33, 40, 47, 48, 56, 60, 64, 96, 127][Int(next() >> 58) % 12]
            networks.append((random() & mask(length), length, "n\(number % 60)"))
        }
        let folder = try FeedFolder()
        let path = try folder.write("networks.txt", networks.map {
            "\(IPAddress.text(v6: $0.network))/\($0.length) \($0.comment)"
        }.joined(separator: "\n"))
        let index = FeedSet(feeds: [Feed(name: "n", verdict: .malicious, path: path, format: .text)]).index
        let firstSeen = Dictionary(networks.map(\.comment).enumerated().map { ($1, $0) }) { first, _ in first }
        for probe in 0..<3_000 {
            // In a listed network's /64 half the time, anywhere in the allocations otherwise.
            let address = probe % 2 == 0 ? networks[probe / 2 % networks.count].network | UInt128(next()) : random()
            let expected = Set(networks.filter { address & mask($0.length) == $0.network }.map(\.comment))
                .sorted { firstSeen[$0]! < firstSeen[$1]! }
            let text = IPAddress.text(v6: address)
            #expect(index.matches(.ipv6, text).map { $0.comment ?? "" } == expected, "\(text)")
        }
    }

    @Test("IPv6 text forms are read as the C library's inet_pton reads them")
    func ipv6TextForms() {
        var forms = [
            "::", "::1", "1::", "1::2", "2001:db8::", "2001:DB8:0:0:0:0:0:1", "2001:db8:0:0:1:0:0:1", "fe80::1:2:3:4:5:6",
            "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "::ffff:192.0.2.1", "::192.0.2.1",
            "1:2:3:4:5:6:192.0.2.1", "64:ff9b::203.0.113.5", "00001::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
            "1::2::3", ":1::", "1::2:", ":::", "1:::2", "::ffff:192.0.2", "::ffff:192.0.2.256", "::ffff:01.2.3.4",
            "1:2:3:4:5:6:7:192.0.2.1", "192.0.2.1", "::1.2.3.4:5", "fe80::1%eth0", "g::", "", ":", "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8", "abcd:ef01:2345:6789:ABCD:EF01:2345:6789", "::0:0:0:0:0:0:0",
        ]
        // And every way to cut one address with `::`.
        let groups = ["2001", "db8", "0", "0", "0", "0", "ff00", "42"]
        for start in 0..<8 {
            for end in start + 1...8 {
                forms.append(groups[..<start].joined(separator: ":") + "::" + groups[end...].joined(separator: ":"))
            }
        }
        for form in forms {
            var bytes = [UInt8](repeating: 0, count: 16)
            let expected = inet_pton(AF_INET6, form, &bytes) == 1 ? bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } : nil
            var text = form
            #expect(text.withUTF8 { IPAddress.v6($0) } == expected, "\(form)")
        }
    }

    @Test("An IPv6 /0 holds every address, and no IPv4 one")
    func ipv6Everything() throws {
        let folder = try FeedFolder()
        let path = try folder.write("v6.txt", "::/0 all of it\n")
        let index = FeedSet(feeds: [Feed(name: "v6", verdict: .suspicious, path: path, format: .text)]).index
        #expect(index.matches(.ipv6, "::").lines == ["v6 (suspicious): all of it"])
        #expect(index.matches(.ipv6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").lines == ["v6 (suspicious): all of it"])
        #expect(index.matches(.ipv4, "192.0.2.1").isEmpty)
    }

    @Test("Domains match themselves and their subdomains, never a longer name that ends the same")
    func domainSuffixes() throws {
        let folder = try FeedFolder()
        let bad = try folder.write("bad.txt", "example.com parent\nb.example.com child\nco.uk too wide\n")
        let good = try folder.write("good.txt", "a.b.example.com # known good\n")
        let index = FeedSet(feeds: [
            Feed(name: "bad", verdict: .malicious, path: bad, format: .text),
            Feed(name: "good", verdict: .benign, path: good, format: .text),
        ]).index
        #expect(index.matches(.domain, "example.com").lines == ["bad (malicious): parent"])
        #expect(index.matches(.domain, "www.example.com").lines == ["bad (malicious): parent"])
        #expect(index.matches(.domain, "x.a.b.example.com").lines == [
            "bad (malicious): parent", "bad (malicious): child", "good (benign): known good",
        ])
        #expect(index.matches(.domain, "notexample.com").isEmpty)
        #expect(index.matches(.domain, "example.com.evil.net").isEmpty)
        #expect(index.matches(.domain, "com").isEmpty)
        #expect(index.matches(.domain, "xb.example.com").lines == ["bad (malicious): parent"])
        #expect(index.matches(.domain, "shop.co.uk").lines == ["bad (malicious): too wide"])
        #expect(index.matches(.domain, "").isEmpty)
        #expect(index.matches(.url, "http://example.com/").isEmpty)
    }

    @Test("An internationalised domain in a feed matches its A-labels, as extracted, and itself as written")
    func internationalisedDomains() throws {
        let folder = try FeedFolder()
        let path = try folder.write("idn.txt", """
            bücher.de shop
            ПРИМЕР.РФ. test
            xn--mnchen-3ya.de ascii already
            """)
        let index = FeedSet(feeds: [Feed(name: "idn", verdict: .malicious, path: path, format: .text)]).index
        let extracted = Extractor.extract(Array("see www.Bücher.de and пример.рф now".utf8)).map(\.value)
        #expect(extracted == ["www.xn--bcher-kva.de", "xn--e1afmkfd.xn--p1ai"])
        #expect(index.matches(.domain, extracted[0]).lines == ["idn (malicious): shop"])
        #expect(index.matches(.domain, extracted[1]).lines == ["idn (malicious): test"])
        #expect(index.matches(.domain, "xn--bcher-kva.de").lines == ["idn (malicious): shop"])
        #expect(index.matches(.domain, "bücher.de").lines == ["idn (malicious): shop"])
        #expect(index.matches(.domain, "login.BÜCHER.de.").lines == ["idn (malicious): shop"])
        #expect(index.matches(.domain, "mail.пример.рф").lines == ["idn (malicious): test"])
        #expect(index.matches(.domain, "münchen.de").lines == ["idn (malicious): ascii already"])
        #expect(index.matches(.domain, "bucher.de").isEmpty)
        #expect(index.matches(.domain, "bü™cher.de").isEmpty)
    }

    @Test("An IPv4 address written as IPv6 (mapped, compatible, NAT64) matches the IPv4 entries; a mapped entry matches IPv4")
    func mappedIPv4() throws {
        let folder = try FeedFolder()
        let path = try folder.write("mixed.txt", """
            203.0.113.0/24 net
            198.51.100.7 host
            ::ffff:192.0.2.9 mapped host
            ::ffff:192.0.2.128/121 mapped net
            2001:db8::/32 v6
            """)
        let index = FeedSet(feeds: [Feed(name: "mixed", verdict: .malicious, path: path, format: .text)]).index
        #expect(index.matches(.ipv6, "::ffff:203.0.113.5").lines == ["mixed (malicious): net"])
        #expect(index.matches(.ipv6, "::FFFF:cb00:7105").lines == ["mixed (malicious): net"])
        #expect(index.matches(.ipv6, "0:0:0:0:0:ffff:203.0.113.255").lines == ["mixed (malicious): net"])
        #expect(index.matches(.ipv6, "::ffff:198.51.100.7").lines == ["mixed (malicious): host"])
        #expect(index.matches(.ipv6, "::ffff:192.0.2.9").lines == ["mixed (malicious): mapped host"])
        #expect(index.matches(.ipv4, "192.0.2.9").lines == ["mixed (malicious): mapped host"])
        #expect(index.matches(.ipv4, "192.0.2.200").lines == ["mixed (malicious): mapped net"])
        #expect(index.matches(.ipv6, "::ffff:192.0.2.255").lines == ["mixed (malicious): mapped net"])
        #expect(index.matches(.ipv4, "192.0.2.127").isEmpty)
        #expect(index.matches(.ipv6, "::ffff:203.0.114.1").isEmpty)
        // IPv4-compatible (deprecated) and NAT64 addresses are the IPv4 host too, as actions' protected networks see them.
        #expect(index.matches(.ipv6, "::203.0.113.5").lines == ["mixed (malicious): net"])
        #expect(index.matches(.ipv6, "64:ff9b::203.0.113.5").lines == ["mixed (malicious): net"])
        #expect(index.matches(.ipv6, "64:ff9b::192.0.2.9").lines == ["mixed (malicious): mapped host"])
        #expect(index.matches(.ipv6, "::1").isEmpty && index.matches(.ipv6, "64:ff9c::203.0.113.5").isEmpty)
        #expect(index.matches(.ipv6, "2001:db8::cb00:7105").lines == ["mixed (malicious): v6"])
        #expect(index.count == 5)
    }

    @Test("Hashes, URLs, e-mail addresses and CVEs match exactly; one feed and comment count once")
    func exactMatches() throws {
        let folder = try FeedFolder()
        let first = try folder.write("first.txt", """
            44d88612fea8a8f36de82e1278abb02f eicar
            44D88612FEA8A8F36DE82E1278ABB02F eicar
            44d88612fea8a8f36de82e1278abb02f again
            https://evil.example/login
            soc@evil.example
            CVE-2021-44228
            \(String(repeating: "ab", count: 64)) long
            """)
        let second = try folder.write("second.txt", "44d88612fea8a8f36de82e1278abb02f\n")
        let index = FeedSet(feeds: [
            Feed(name: "first", verdict: .malicious, path: first, format: .text),
            Feed(name: "second", verdict: .suspicious, path: second, format: .text),
        ]).index
        #expect(index.matches(.md5, "44D88612fea8a8f36de82e1278abb02f").lines == [
            "first (malicious): eicar", "first (malicious): again", "second (suspicious)",
        ])
        #expect(index.matches(.md5, "44d88612fea8a8f36de82e1278abb02e").isEmpty)
        #expect(index.matches(.sha1, "44d88612fea8a8f36de82e1278abb02f").isEmpty)
        #expect(index.matches(.sha512, String(repeating: "ab", count: 64)).lines == ["first (malicious): long"])
        #expect(index.matches(.url, "https://evil.example/login").lines == ["first (malicious)"])
        #expect(index.matches(.url, "https://evil.example/login/").isEmpty)
        #expect(index.matches(.email, "soc@evil.example").lines == ["first (malicious)"])
        #expect(index.matches(.cve, "CVE-2021-44228").lines == ["first (malicious)"])
        #expect(index.matches(.domain, "evil.example").isEmpty)
        #expect(index.count == 5)
    }

    @Test("One feed is one source, however many of its entries list the indicator: its comments are the reasons")
    func oneSourceAFeed() throws {
        let folder = try FeedFolder()
        let path = try folder.write("feed2.txt", """
            203.0.113.0/24 range
            203.0.113.99 host
            https://login.evil.top/x phishing
            evil.top kit
            """)
        let other = try folder.write("other.txt", "203.0.113.99\n")
        let index = FeedSet(feeds: [
            Feed(name: "t", verdict: .malicious, path: path, format: .text),
            Feed(name: "u", verdict: .malicious, path: other, format: .text),
        ]).index
        let verdicts = index.verdicts(for: [(.ipv4, "203.0.113.99"), (.url, "https://login.evil.top/x"), (.ipv4, "203.0.113.7")])
        #expect(Verdict(verdicts[0]).summary == #"malicious: 2 of 2 sources; local feed "t" (range; host); local feed "u""#)
        #expect(Verdict(verdicts[1]).summary
            == #"malicious: 1 of 1 source; local feed "t" (phishing), lists its host login.evil.top (kit)"#)
        #expect(Verdict(verdicts[2]).summary == #"malicious: 1 of 1 source; local feed "t" (range)"#)
    }

    @Test("A hash with a character that is not a hex digit, anywhere, is not one")
    func hexDigits() throws {
        let md5 = "0123456789abcdefABCDEF0123456789"
        let folder = try FeedFolder()
        let path = try folder.write("hashes.txt", md5 + "\n")
        let index = FeedSet(feeds: [Feed(name: "hashes", verdict: .malicious, path: path, format: .text)]).index
        #expect(index.matches(.md5, md5.lowercased()).count == 1)
        for position in 0..<32 {
            for character in ["g", "G", "/", ":", "@", "`", "{", " ", "\u{7F}"] {
                var bytes = Array(md5.utf8)
                bytes[position] = Array(character.utf8)[0]
                let value = String(decoding: bytes, as: UTF8.self)
                #expect(index.matches(.md5, value).isEmpty, "\(value)")
                #expect(throws: IndicatorKey.Refusal.self) { try IndicatorKey.parse(value, as: .hash) }
            }
        }
    }

    // MARK: Reload

    @Test("A changed file is read again in the background once asked after a second; refresh() looks at once")
    func reloadOnChange() async throws {
        let folder = try FeedFolder()
        let text = try folder.write("list.txt", "198.51.100.7 old\n")
        let csv = try folder.write("list.csv", "value\nevil.example\n")
        let feeds = FeedSet(feeds: [
            Feed(name: "text", verdict: .malicious, path: text, format: .text),
            Feed(name: "csv", verdict: .malicious, path: csv, format: .csv(CSVColumns(value: "value"))),
        ])
        #expect(feeds.matches(.ipv4, "198.51.100.7").lines == ["text (malicious): old"])

        try folder.write("list.txt", "198.51.100.8 new\n")
        #expect(feeds.matches(.ipv4, "198.51.100.7").lines == ["text (malicious): old"], "looked at less than a second ago")
        try await Task.sleep(for: .milliseconds(1100))
        #expect(feeds.matches(.ipv4, "198.51.100.7").lines == ["text (malicious): old"], "the reload has just started")
        try await ReplayTests.eventually { feeds.matches(.ipv4, "198.51.100.8").lines == ["text (malicious): new"] }
        #expect(feeds.matches(.ipv4, "198.51.100.7").isEmpty)
        #expect(feeds.matches(.domain, "evil.example").lines == ["csv (malicious)"], "the other feed is kept")

        try folder.write("list.csv", "value\nother.example\n")
        await feeds.refresh()
        #expect(feeds.matches(.domain, "evil.example").isEmpty)
        #expect(feeds.matches(.domain, "other.example").lines == ["csv (malicious)"])
        #expect(feeds.matches(.ipv4, "198.51.100.8").lines == ["text (malicious): new"])
        #expect(feeds.statuses.map(\.entryCount) == [1, 1])
    }

    @Test("The load's log line counts one entry as one entry")
    func oneEntryLogged() throws {
        let folder = try FeedFolder()
        let path = try folder.write("one.txt", "198.51.100.7 C2\n")
        let records = CapturedLog.Records()
        var logger = Logger(label: "test") { _ in CapturedLog(records: records) }
        logger.logLevel = .debug  // a first load logs at debug
        _ = FeedSet(feeds: [Feed(name: "one", verdict: .malicious, path: path, format: .text)], logger: logger)
        let log = records.lines.withLock { $0.map(\.message) }
        #expect(log.contains { $0.hasPrefix("feed one loaded: 1 entry in ") }, "\(log)")
    }

    @Test("A large feed is reloaded in the background: lookups meanwhile answer from its previous version at once")
    func backgroundReload() async throws {
        let folder = try FeedFolder()
        let count = 100_000
        let path = try folder.write("big.txt", LargeFeed.text(count, first: "198.51.100.7 old C2\n"))
        let records = CapturedLog.Records()
        let feeds = FeedSet(feeds: [Feed(name: "big", verdict: .malicious, path: path, format: .text)],
                            logger: Logger(label: "test") { _ in CapturedLog(records: records) })
        let loadedAt = try #require(feeds.statuses[0].loadedAt)

        try folder.write("big.txt", LargeFeed.text(count, first: "198.51.100.8 new C2\n"))
        // Held, as a slow disk would: the reload cannot end before the lease goes.
        let lease = try FileLease(path)
        try await Task.sleep(for: .milliseconds(1100))
        // The first lookup notices the change and starts the reload; neither it nor the next waits
        // for the reload.
        #expect(feeds.matches(.ipv4, "198.51.100.7").lines == ["big (malicious): old C2"])
        #expect(feeds.matches(.ipv4, "198.51.100.8").isEmpty)
        #expect(feeds.statuses[0].loadedAt == loadedAt, "the reload goes on after the lookups answered")
        lease.release()
        try await ReplayTests.eventually { feeds.statuses[0].loadedAt != loadedAt }
        #expect(feeds.matches(.ipv4, "198.51.100.8").lines == ["big (malicious): new C2"])
        #expect(feeds.matches(.ipv4, "198.51.100.7").isEmpty)
        var log = records.lines.withLock { $0.map(\.message) }
        #expect(log.contains { $0.hasPrefix("reloading feed big (") && $0.contains(" MB), which changed") }, "\(log)")
        #expect(log.contains { $0.hasPrefix("feed big reloaded: \(count + 1) entries in ") }, "\(log)")

        // A reload that fails keeps the previous version, and says why.
        try FileManager.default.removeItem(atPath: path)
        await feeds.refresh()
        #expect(feeds.matches(.ipv4, "198.51.100.8").lines == ["big (malicious): new C2"])
        log = records.lines.withLock { $0.map(\.message) }
        #expect(log.last == "feed \"big\": cannot read \(path): No such file or directory; check the feed's path and the "
            + "file's permissions: the feed keeps the \(count + 1) entries of its previous version", "\(log)")
    }

    @Test("Loaded in the background: a lookup waits for the first load, then says the feed is still loading, never that no feed lists it")
    func firstLoadInBackground() async throws {
        let folder = try FeedFolder()
        let path = try folder.write("big.txt", LargeFeed.text(100_000, first: "198.51.100.7 C2\n"))
        let feed = Feed(name: "big", verdict: .malicious, path: path, format: .text)
        let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

        let patient = FeedSet(feeds: [feed], logger: quiet, firstLoad: .inBackground(wait: .seconds(120)))
        let waited = await ReputationService(feeds: patient, integrations: nil, cache: nil).reputation(of: .ipv4, "198.51.100.7")
        #expect(waited.summary == #"malicious: 1 of 1 source; local feed "big" (C2)"#)

        // Held: the load cannot end before the lease goes, however fast the machine.
        let lease = try FileLease(path)
        let impatient = FeedSet(feeds: [feed], logger: quiet, firstLoad: .inBackground(wait: .zero))
        let service = ReputationService(feeds: impatient, integrations: nil, cache: nil)
        let early = await service.reputation(of: .ipv4, "198.51.100.7")
        #expect(early.score == .unknown)
        #expect(early.summary == #"unknown: 1 source asked, none knows it; could not answer: local feed "big" still "#
            + "loading since the server started: ask again in a minute")
        lease.release()
        await impatient.refresh()
        #expect(await service.reputation(of: .ipv4, "198.51.100.7").score == .malicious)
        #expect(await service.reputation(of: .ipv4, "198.51.100.9").summary
            == "unknown: no feed lists it, and no integration is set up for it")
    }

    @Test("A reload that fails keeps the feed's previous entries and says why; a fixed file is read again")
    func failedReload() async throws {
        let folder = try FeedFolder()
        let stix = try folder.write("bundle.json", #"""
            {"type": "bundle", "objects": [{"type": "indicator", "id": "indicator--a", "name": "C2",
             "pattern": "[ipv4-addr:value = '198.51.100.7']"}]}
            """#)
        let text = try folder.write("list.txt", "evil.example\n")
        let feed = Feed(name: "stix", verdict: .malicious, path: stix, format: .stix)
        let feeds = FeedSet(feeds: [feed, Feed(name: "text", verdict: .suspicious, path: text, format: .text)])
        let loadedAt = try #require(feeds.statuses[0].loadedAt)

        try folder.write("bundle.json", #"{"type": "bundle", "objects": [ truncated"#)
        try folder.write("list.txt", "evil.example\nbad.example\n")
        await feeds.refresh()
        #expect(feeds.matches(.ipv4, "198.51.100.7").lines == ["stix (malicious): C2"])
        #expect(feeds.matches(.domain, "bad.example").lines == ["text (suspicious)"])
        let status = feeds.statuses[0]
        #expect(status.failure?.description.hasPrefix("feed \"stix\": \(stix) is not valid JSON (") == true)
        #expect(status.failure?.description
            .hasSuffix("); a STIX feed is one bundle: {\"type\": \"bundle\", \"objects\": [...]}") == true)
        #expect(status.entryCount == 1)
        #expect(status.loadedAt == loadedAt)

        try FileManager.default.removeItem(atPath: stix)
        await feeds.refresh()
        #expect(feeds.matches(.ipv4, "198.51.100.7").lines == ["stix (malicious): C2"])
        #expect(feeds.statuses[0].failure == FeedError(feed, "cannot read \(stix): No such file or directory; check "
            + "the feed's path and the file's permissions"))

        try folder.write("bundle.json", #"""
            {"type": "bundle", "objects": [{"type": "indicator", "id": "indicator--b", "name": "C2 moved",
             "pattern": "[ipv4-addr:value = '198.51.100.9']"}]}
            """#)
        await feeds.refresh()
        #expect(feeds.matches(.ipv4, "198.51.100.7").isEmpty)
        #expect(feeds.matches(.ipv4, "198.51.100.9").lines == ["stix (malicious): C2 moved"])
        #expect(feeds.statuses[0].failure == nil)
        #expect(feeds.matches(.domain, "bad.example").lines == ["text (suspicious)"])
    }

    @Test("A feed missing at start loads once its file appears")
    func missingAtStart() async throws {
        let folder = try FeedFolder()
        let path = folder.path + "/later.txt"
        let feed = Feed(name: "later", verdict: .malicious, path: path, format: .text)
        let feeds = FeedSet(feeds: [feed])
        #expect(feeds.statuses[0].failure == FeedError(feed, "cannot read \(path): No such file or directory; check "
            + "the feed's path and the file's permissions"))
        #expect(feeds.statuses[0].loadedAt == nil)
        try folder.write("later.txt", "198.51.100.7\n")
        await feeds.refresh()
        #expect(feeds.matches(.ipv4, "198.51.100.7").lines == ["later (malicious)"])
    }

    @Test("A file a feed lists by its three hashes is one source, not three")
    func fileByEveryHash() async throws {
        let folder = try FeedFolder()
        let file = Array("X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*".utf8)
        let hashes = FileHashes(file)
        let path = try folder.write("bad.txt", "\(hashes.sha256) EICAR\n\(hashes.sha1) EICAR\n\(hashes.md5) EICAR\n")
        let feeds = FeedSet(feeds: [Feed(name: "bad", verdict: .malicious, path: path, format: .text)],
                            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let (_, verdict) = await ReputationService(feeds: feeds, integrations: nil, cache: nil).reputation(ofFile: file)
        #expect(verdict.score == .malicious)
        #expect(verdict.summary == #"malicious: 1 of 1 source; local feed "bad" (EICAR)"#)
    }

    @Test("A MISP feed reloads when its manifest changes")
    func mispReload() async throws {
        let folder = try FeedFolder()
        let event = "5f4d1e2a-0000-4000-8000-000000000001"
        try folder.write("misp/manifest.json", "{}")
        try folder.write("misp/\(event).json", """
            {"Event": {"info": "wave", "Attribute": [{"type": "domain", "value": "evil.example", "to_ids": true}]}}
            """)
        let feeds = FeedSet(feeds: [Feed(name: "misp", verdict: .malicious, path: folder.path + "/misp", format: .misp)])
        #expect(feeds.matches(.domain, "evil.example").isEmpty)
        try folder.write("misp/manifest.json", "{\"\(event)\": {\"info\": \"wave\"}}")
        await feeds.refresh()
        #expect(feeds.matches(.domain, "evil.example").lines == ["misp (malicious): wave"])
    }

    @Test("Lookups from many threads while the index is swapped")
    func concurrentLookups() async throws {
        let folder = try FeedFolder()
        let path = try folder.write("list.txt", "198.51.100.0/24 net\n")
        let feeds = FeedSet(feeds: [Feed(name: "list", verdict: .malicious, path: path, format: .text)])
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var found = 0
                    for round in 0..<20_000 {
                        found += feeds.matches(.ipv4, "198.51.100.\(round % 256)").count
                    }
                    return found
                }
            }
            for round in 0..<5 {
                try folder.write("list.txt", "198.51.100.0/24 net \(round)\n")
                await feeds.refresh()
            }
            for try await found in group { #expect(found == 20_000) }
        }
    }
}
