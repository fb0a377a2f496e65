import AutomatorRuntime
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("More integrations: the shipped X-Force, URLhaus, MISP and OTX against loopback copies of their APIs",
       .timeLimit(.minutes(1)))
struct MoreIntegrationTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/integrations").path
    static let fastRetries = RetryPolicy(attempts: 3, firstDelay: .milliseconds(20), longestWait: .seconds(2))

    /// base64("KEY:PASSWORD"), as XFORCE_CREDENTIALS holds it.
    static let xforceCredentials = Data("xf-key-0123:xf-password-4567".utf8).base64EncodedString()
    static let urlhausKey = "urlhaus-auth-key-89ab"
    static let mispKey = "misp-automation-key-cdef"
    static let otxKey = "otx-key-0246"
    static let eicar = "44d88612fea8a8f36de82e1278abb02f"
    static let sha256 = String(repeating: "ab", count: 32)

    /// The requests the loopback APIs received: method, path as sent (percent-encoding and all),
    /// and for POSTs what was asked.
    final class Log: Sendable {
        let requests = Mutex<[String]>([])
        func record(_ request: String) { requests.withLock { $0.append(request) } }
        func count(_ request: String) -> Int { requests.withLock { $0.filter { $0 == request }.count } }
        var all: [String] { requests.withLock { $0 } }
    }

    // MARK: - The four APIs

    static func json(_ text: String, _ status: HTTPResponse.Status = .ok, _ headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Answers with a 429 (Retry-After: 1) the first time, then with `answer`.
    final class OnceLimited: Sendable {
        let asked = Mutex(0)
        func answer(_ text: String) -> Response {
            let first = asked.withLock { count in count += 1; return count == 1 }
            return first ? MoreIntegrationTests.json(#"{"error": "Too Many Requests"}"#, .tooManyRequests, [.retryAfter: "1"])
                : MoreIntegrationTests.json(text)
        }
    }

    /// X-Force Exchange as its documentation and clients describe it: GET /ipr/{ip}, /url/{url}
    /// and /malware/{hash}, HTTP Basic authentication, 404 for what it does not know.
    static func xforce(_ router: Router<BasicRequestContext>, _ log: Log) {
        let limited = OnceLimited()
        router.get("/xforce/**") { request, _ -> Response in
            log.record("GET " + request.uri.path)
            guard request.headers[.authorization] == "Basic " + xforceCredentials,
                  request.headers[.accept] == "application/json"
            else { return json(#"{"error": "Not authorized."}"#, .unauthorized) }
            func ip(_ score: String, cats: String) -> Response {
                json(#"{"ip": "x", "history": [], "subnets": [], "cats": {\#(cats)}, "geo": {"country": "Netherlands", "countrycode": "NL"}, "score": \#(score), "reason": "Regional Internet Registry", "reasonDescription": "One of the five RIRs announced a (new) location mapping of the IP.", "tags": []}"#)
            }
            switch String(request.uri.path.dropFirst("/xforce".count)) {
            case "/ipr/198.51.100.7": return ip("10", cats: #""Botnet Command and Control Server": 43, "Malware": 71"#)
            case "/ipr/192.0.2.44": return ip("4.3", cats: #""Spam": 43"#)
            case "/ipr/192.0.2.10": return ip("1", cats: "")
            case "/url/http://evil.example/pay%3Fid=1":
                return json(#"{"result": {"url": "http://evil.example/pay?id=1", "cats": {"Malware": true}, "score": 7, "categoryDescriptions": {"Malware": "This category lists malware sites."}}, "associated": [], "tags": []}"#)
            case "/url/evil.example":
                return json(#"{"result": {"url": "evil.example", "cats": {"Dynamic Content": true}, "score": 3}, "tags": []}"#)
            case "/malware/\(eicar)":
                return json(#"{"malware": {"origins": {"external": {"source": "reversingLabs", "detectionCoverage": 43, "family": ["eicar"]}}, "type": "md5", "md5": "0x44D88612FEA8A8F36DE82E1278ABB02F", "hash": "0x44D88612FEA8A8F36DE82E1278ABB02F", "created": "2014-10-20T23:19:00Z", "family": ["eicar", "testfile"], "familyMembers": {"eicar": {"count": 61}}, "risk": "high"}, "tags": []}"#)
            case "/ipr/203.0.113.66": return limited.answer(#"{"ip": "203.0.113.66", "cats": {}, "score": 8}"#)
            case "/ipr/203.0.113.50": return json(#"{"error": "Internal Server Error"}"#, .internalServerError)
            case "/ipr/203.0.113.99": return json(#"{"ip": "203.0.113.99", "score": "#)
            default: return json(#"{"error": "Not found."}"#, .notFound)
            }
        }
    }

    /// URLhaus as its documentation describes it: POST /v1/url/, /v1/host/ and /v1/payload/ with a
    /// form body and the Auth-Key header; the outcome in query_status.
    static func urlhaus(_ router: Router<BasicRequestContext>, _ log: Log) {
        let limited = OnceLimited()
        router.post("/urlhaus/v1/**") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            log.record("POST \(request.uri.path) \(body)")
            guard let key = request.headers[.init("Auth-Key")!] else { return json(#"{"query_status": "unknown_auth_key"}"#, .unauthorized) }
            guard key == urlhausKey else { return json(#"{"query_status": "unknown_auth_key"}"#, .forbidden) }
            guard request.headers[.contentType] == "application/x-www-form-urlencoded" else { return json("{}", .badRequest) }
            let field = body.split(separator: "=", maxSplits: 1).map(String.init)
            guard field.count == 2, let value = field[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                return json(#"{"query_status": "http_post_expected"}"#)
            }
            func url(_ id: Int, _ status: String) -> String {
                #"{"id": "\#(id)", "urlhaus_reference": "https://urlhaus.abuse.ch/url/\#(id)/", "url": "http://x.example/\#(id)", "url_status": "\#(status)", "date_added": "2024-03-01 10:00:05 UTC", "threat": "malware_download", "reporter": "abuse_ch", "larted": "true", "takedown_time_seconds": null, "tags": ["elf"]}"#
            }
            func host(_ count: Int, _ statuses: [String]) -> Response {
                let urls = statuses.enumerated().map { url($0.offset + 1, $0.element) }.joined(separator: ", ")
                return json(#"{"query_status": "ok", "urlhaus_reference": "https://urlhaus.abuse.ch/host/x/", "host": "\#(value)", "firstseen": "2024-03-01 10:00:05 UTC", "url_count": "\#(count)", "blacklists": {"spamhaus_dbl": "not listed", "surbl": "not listed"}, "urls": [\#(urls)]}"#)
            }
            switch (String(request.uri.path.dropFirst("/urlhaus/v1".count)), field[0], value) {
            case ("/url/", "url", "http://evil.example/pay?id=1"):
                return json(#"{"query_status": "ok", "id": "105821", "urlhaus_reference": "https://urlhaus.abuse.ch/url/105821/", "url": "http://evil.example/pay?id=1", "url_status": "online", "host": "evil.example", "date_added": "2024-03-01 10:00:05 UTC", "last_online": null, "threat": "malware_download", "blacklists": {"spamhaus_dbl": "not listed", "surbl": "not listed"}, "reporter": "abuse_ch", "larted": "true", "takedown_time_seconds": null, "tags": ["elf", "Mozi"], "payloads": []}"#)
            case ("/url/", "url", "http://old.example/x.exe"):
                return json(#"{"query_status": "ok", "id": "77", "url": "http://old.example/x.exe", "url_status": "offline", "host": "old.example", "threat": "malware_download", "tags": null, "payloads": null}"#)
            case ("/host/", "host", "evil.example"): return host(3, ["online", "offline", "offline"])
            case ("/host/", "host", "198.51.100.7"): return host(1, ["offline"])
            case ("/host/", "host", "-invalid-"): return json(#"{"query_status": "invalid_host"}"#)
            case ("/host/", "host", "rate.example"):
                return limited.answer(#"{"query_status": "ok", "host": "rate.example", "url_count": "2", "urls": [\#(url(1, "offline")), \#(url(2, "offline"))]}"#)
            case ("/host/", "host", "broken.example"): return json("{}", .badGateway)
            case ("/host/", "host", "garbled.example"): return json(#"{"query_status": "ok", "urls": ["#)
            case ("/payload/", "md5_hash", eicar):
                return json(#"{"query_status": "ok", "md5_hash": "\#(eicar)", "sha256_hash": "\#(sha256)", "file_type": "exe", "file_size": "68", "signature": "Mozi", "firstseen": "2024-03-01 10:00:05", "lastseen": null, "url_count": "4", "urlhaus_download": "https://urlhaus-api.abuse.ch/v1/download/x/", "virustotal": null, "urls": []}"#)
            case ("/payload/", "sha256_hash", sha256):
                return json(#"{"query_status": "ok", "sha256_hash": "\#(sha256)", "signature": null, "url_count": "1", "urls": []}"#)
            default: return json(#"{"query_status": "no_results"}"#)
            }
        }
    }

    static func mispAttribute(_ id: Int, event: Int, info: String, toIDS: Bool, type: String, value: String) -> String {
        #"{"id": "\#(id)", "event_id": "\#(event)", "object_id": "0", "object_relation": null, "category": "Network activity", "type": "\#(type)", "to_ids": \#(toIDS), "uuid": "5f1c2a3b-0000-4000-8000-00000000000\#(id % 10)", "timestamp": "1617875568", "distribution": "5", "sharing_group_id": "0", "comment": "", "deleted": false, "disable_correlation": false, "first_seen": null, "last_seen": null, "value": "\#(value)", "Event": {"org_id": "1", "distribution": "1", "id": "\#(event)", "info": "\#(info)", "orgc_id": "1", "uuid": "5f1c2a3b-1111-4000-8000-00000000000\#(event % 10)"}}"#
    }

    /// MISP as its OpenAPI describes it: POST /attributes/restSearch with a JSON body, the key in
    /// Authorization, `response.Attribute` in the answer, 403 for a key it refuses.
    static func misp(_ router: Router<BasicRequestContext>, _ log: Log) {
        let limited = OnceLimited()
        router.post("/misp/attributes/restSearch") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            guard request.headers[.authorization] == mispKey else {
                log.record("POST \(request.uri.path) refused")
                return json(#"{"name": "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.", "message": "Authentication failed. Please make sure you pass the API key of an API enabled user along in the Authorization header.", "url": "/attributes/restSearch"}"#, .forbidden)
            }
            guard request.headers[.accept] == "application/json", request.headers[.contentType] == "application/json",
                  let search = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: String],
                  search.count == 2, search["returnFormat"] == "json", let value = search["value"]
            else {
                log.record("POST \(request.uri.path) unexpected: \(body)")
                return json(#"{"name": "Bad Request", "message": "Bad Request", "url": "/attributes/restSearch"}"#, .badRequest)
            }
            log.record("POST \(request.uri.path) \(value)")
            func attributes(_ list: [String]) -> String { #"{"response": {"Attribute": [\#(list.joined(separator: ", "))]}}"# }
            switch value {
            case "198.51.100.7":
                return json(attributes([
                    mispAttribute(1, event: 12, info: "Emotet C2 servers", toIDS: false, type: "ip-dst", value: value),
                    mispAttribute(2, event: 15, info: "Phishing wave", toIDS: true, type: "ip-src", value: value),
                    mispAttribute(3, event: 12, info: "Emotet C2 servers", toIDS: false, type: "ip-dst", value: value),
                ]))
            case "evil.example":
                return json(attributes((1...5).map {
                    mispAttribute($0, event: $0, info: "Report \($0)", toIDS: false, type: "domain", value: value)
                }))
            case "ceo@evil.example":
                return json(attributes([mispAttribute(4, event: 7, info: "CEO fraud", toIDS: true, type: "email-src", value: value)]))
            case "203.0.113.66":
                return limited.answer(attributes([mispAttribute(5, event: 9, info: "Scanner", toIDS: true, type: "ip-src", value: value)]))
            case "203.0.113.50": return json(#"{"name": "An Internal Error Has Occurred.", "message": "An Internal Error Has Occurred.", "url": "/attributes/restSearch"}"#, .internalServerError)
            case "203.0.113.99": return json(#"{"response": {"Attribute": ["#)
            default: return json(attributes([]))
            }
        }
    }

    /// OTX as its documentation and SDK describe it: GET /api/v1/indicators/{type}/{value}/general
    /// with X-OTX-API-KEY, `pulse_info.count` in the answer, 403 for a key it refuses.
    static func otx(_ router: Router<BasicRequestContext>, _ log: Log) {
        let limited = OnceLimited()
        router.get("/otx/api/v1/indicators/**") { request, _ -> Response in
            log.record("GET " + request.uri.path)
            guard request.headers[.init("X-OTX-API-KEY")!] == otxKey else {
                return json(#"{"detail": "Authentication credentials were not provided."}"#, .forbidden)
            }
            func general(_ pulses: Int) -> Response {
                let list = (0..<pulses).map { #"{"id": "65f0\#($0)", "name": "Pulse \#($0)", "tags": ["c2"], "adversary": ""}"# }
                return json(#"{"sections": ["general", "reputation", "geo"], "type": "IPv4", "base_indicator": {}, "pulse_info": {"count": \#(pulses), "pulses": [\#(list.joined(separator: ", "))], "references": [], "related": {}}, "false_positive": [], "validation": []}"#)
            }
            switch String(request.uri.path.dropFirst("/otx/api/v1/indicators".count)) {
            case "/IPv4/198.51.100.7/general": return general(12)
            case "/IPv6/2001:db8::66/general": return general(2)
            case "/domain/evil.example/general": return general(1)
            case "/url/http://evil.example/pay/general": return general(0)
            case "/file/\(eicar)/general": return general(5)
            case "/IPv4/198.51.100.300/general": return json(#"{"detail": "Invalid IP"}"#, .badRequest)
            case "/IPv4/203.0.113.66/general":
                return limited.answer(#"{"pulse_info": {"count": 7, "pulses": []}}"#)
            case "/IPv4/203.0.113.50/general": return json("{}", .serviceUnavailable)
            case "/IPv4/203.0.113.99/general": return json(#"{"pulse_info": {"count": "#)
            default: return json(#"{"detail": "Not found."}"#, .notFound)
            }
        }
    }

    static func servers(_ log: Log) async throws -> LoopbackServer {
        let router = Router()
        xforce(router, log)
        urlhaus(router, log)
        misp(router, log)
        otx(router, log)
        return try await LoopbackServer(router)
    }

    // MARK: - The shipped scripts, pointed at the server

    /// The integrations of scripts/integrations with settings for `key` alone: the others are left
    /// out for their missing settings (and any other in the folder is told apart by `source`). No
    /// pause after a 5xx: each test asks on after one (IntegrationPauseTests tests the pause).
    static func integrations(_ key: String, _ values: [String: String]) async -> Integrations {
        await Integrations(folder: scripts, settings: [key: .init(values: values)], environment: [:], retry: fastRetries,
                           pause: PausePolicy(first: .zero, longest: .zero), logger: logger)
    }

    static func xforce(_ server: LoopbackServer, credentials: String = xforceCredentials) async -> Integrations {
        await integrations("xforce", ["base_url": server.url + "/xforce", "credentials": credentials])
    }

    static func urlhaus(_ server: LoopbackServer, key: String = urlhausKey) async -> Integrations {
        await integrations("urlhaus", ["base_url": server.url + "/urlhaus/v1", "auth_key": key])
    }

    static func misp(_ server: LoopbackServer, key: String = mispKey) async -> Integrations {
        await integrations("misp", ["base_url": server.url + "/misp/", "api_key": key])
    }

    static func otx(_ server: LoopbackServer, key: String = otxKey) async -> Integrations {
        await integrations("otx", ["base_url": server.url + "/otx/api/v1", "api_key": key])
    }

    /// What `source` answers about `value`, nil when it does not handle `kind`.
    /// What `source` answers, without the pause a failure begins (IntegrationPauseTests tests it).
    static func ask(_ integrations: Integrations, _ source: String, _ kind: String, _ value: String) async -> SourceVerdict? {
        var verdict = await integrations.reputation(kind: kind, value: value).first { $0.source == source }
        verdict?.pause = nil
        return verdict
    }

    static func verdict(_ source: String, _ reliability: Reliability, _ score: Score, _ reason: String) -> SourceVerdict {
        SourceVerdict(source: source, score: score, reliability: reliability, reason: reason)
    }

    static func failure(_ source: String, _ reliability: Reliability, _ reason: String) -> SourceVerdict {
        SourceVerdict(source: source, score: .unknown, reliability: reliability, reason: "failed: " + reason, failed: true)
    }

    /// The problems of the four scripts, by path.
    static func problems(_ integrations: Integrations) -> [String: String] {
        let ours: Set = ["integrations/xforce.lua", "integrations/urlhaus.lua", "integrations/misp.lua", "integrations/otx.lua"]
        return Dictionary(integrations.problems.filter { ours.contains($0.path) }.map { ($0.path, $0.message) },
                          uniquingKeysWith: { first, _ in first })
    }

    /// A 429 with Retry-After: 1 is waited and tried again, and its second answer is the verdict.
    static func expectRetried(_ integrations: Integrations, _ source: String, _ kind: String, _ value: String,
                              _ expected: SourceVerdict, log: Log, request: String) async
    {
        let started = ContinuousClock.now
        #expect(await ask(integrations, source, kind, value) == expected)
        #expect(ContinuousClock.now - started >= .seconds(1), "Retry-After: 1 was waited")
        #expect(log.count(request) == 2, "\(log.all)")
    }

    // MARK: - X-Force

    @Test("X-Force: each kind reaches its documented path with Basic credentials; the risk score becomes the verdict")
    func xforceVerdicts() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.xforce(server)
        defer { integrations.shutdown() }
        #expect(Self.problems(integrations)["integrations/xforce.lua"] == nil, "\(integrations.problems)")
        func v(_ score: Score, _ reason: String) -> SourceVerdict { Self.verdict("X-Force", .b, score, reason) }
        #expect(await Self.ask(integrations, "X-Force", "ip", "198.51.100.7")
            == v(.malicious, "risk 10 of 10: Botnet Command and Control Server, Malware"))
        #expect(await Self.ask(integrations, "X-Force", "ip", "192.0.2.44") == v(.suspicious, "risk 4.3 of 10: Spam"))
        #expect(await Self.ask(integrations, "X-Force", "ip", "192.0.2.10") == v(.benign, "risk 1 of 10"))
        #expect(await Self.ask(integrations, "X-Force", "url", "http://evil.example/pay?id=1") == v(.malicious, "risk 7 of 10: Malware"))
        #expect(await Self.ask(integrations, "X-Force", "domain", "evil.example") == v(.benign, "risk 3 of 10: Dynamic Content"))
        #expect(await Self.ask(integrations, "X-Force", "file", Self.eicar) == v(.malicious, "risk high: eicar, testfile"))
        #expect(await Self.ask(integrations, "X-Force", "ip", "203.0.113.9") == v(.unknown, "not in X-Force"), "a 404 is unknown")
        #expect(await Self.ask(integrations, "X-Force", "file", String(repeating: "0", count: 64)) == v(.unknown, "not in X-Force"))
        #expect(await Self.ask(integrations, "X-Force", "email", "a@b.example") == nil, "X-Force does not handle e-mail")
        #expect(log.all == [
            "GET /xforce/ipr/198.51.100.7", "GET /xforce/ipr/192.0.2.44", "GET /xforce/ipr/192.0.2.10",
            "GET /xforce/url/http://evil.example/pay%3Fid=1", "GET /xforce/url/evil.example", "GET /xforce/malware/\(Self.eicar)",
            "GET /xforce/ipr/203.0.113.9", "GET /xforce/malware/" + String(repeating: "0", count: 64),
        ])
    }

    @Test("X-Force: refused credentials, a 429 waited out, a 5xx tried three times, and malformed JSON")
    func xforceFailures() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.xforce(server)
        defer { integrations.shutdown() }
        await Self.expectRetried(integrations, "X-Force", "ip", "203.0.113.66", Self.verdict("X-Force", .b, .malicious, "risk 8 of 10"),
                                 log: log, request: "GET /xforce/ipr/203.0.113.66")
        #expect(await Self.ask(integrations, "X-Force", "ip", "203.0.113.50") == Self.failure("X-Force", .b, "X-Force answered 500"))
        #expect(log.count("GET /xforce/ipr/203.0.113.50") == 3, "three attempts")
        #expect(await Self.ask(integrations, "X-Force", "ip", "203.0.113.99")
            == Self.failure("X-Force", .b, "X-Force answered 200 without score"))

        let refused = await Self.xforce(server, credentials: Data("xf-key-0123:wrong".utf8).base64EncodedString())
        defer { refused.shutdown() }
        #expect(await Self.ask(refused, "X-Force", "ip", "198.51.100.7")
            == Self.failure("X-Force", .b, "X-Force refused the credentials (401): check credentials"))
        #expect(log.count("GET /xforce/ipr/198.51.100.7") == 1, "a 401 is not tried again")
    }

    // MARK: - URLhaus

    @Test("URLhaus: URLs, hosts and payloads are POSTed as forms with Auth-Key; query_status and url_status become the verdict")
    func urlhausVerdicts() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.urlhaus(server)
        defer { integrations.shutdown() }
        #expect(Self.problems(integrations)["integrations/urlhaus.lua"] == nil, "\(integrations.problems)")
        func v(_ score: Score, _ reason: String) -> SourceVerdict { Self.verdict("URLhaus", .b, score, reason) }
        #expect(await Self.ask(integrations, "URLhaus", "url", "http://evil.example/pay?id=1")
            == v(.malicious, "malware_download, online (elf, Mozi)"))
        #expect(await Self.ask(integrations, "URLhaus", "url", "http://old.example/x.exe") == v(.suspicious, "malware_download, offline"))
        #expect(await Self.ask(integrations, "URLhaus", "url", "http://fine.example/") == v(.unknown, "not in URLhaus"))
        #expect(await Self.ask(integrations, "URLhaus", "domain", "evil.example") == v(.malicious, "3 malware URLs, 1 online"))
        #expect(await Self.ask(integrations, "URLhaus", "ip", "198.51.100.7") == v(.suspicious, "1 malware URL, 0 online"))
        #expect(await Self.ask(integrations, "URLhaus", "domain", "fine.example") == v(.unknown, "not in URLhaus"))
        #expect(await Self.ask(integrations, "URLhaus", "domain", "-invalid-")
            == v(.unknown, "URLhaus cannot look it up: invalid_host"))
        #expect(await Self.ask(integrations, "URLhaus", "file", Self.eicar.uppercased()) == v(.malicious, "payload Mozi from 4 URLs"))
        #expect(await Self.ask(integrations, "URLhaus", "file", Self.sha256) == v(.suspicious, "payload from 1 URL"))
        #expect(await Self.ask(integrations, "URLhaus", "file", String(repeating: "1", count: 40))
            == v(.unknown, "URLhaus looks up MD5 and SHA-256 hashes only"))
        #expect(await Self.ask(integrations, "URLhaus", "email", "a@b.example") == nil, "URLhaus does not handle e-mail")
        #expect(log.all == [
            "POST /urlhaus/v1/url/ url=http%3A%2F%2Fevil.example%2Fpay%3Fid%3D1",
            "POST /urlhaus/v1/url/ url=http%3A%2F%2Fold.example%2Fx.exe",
            "POST /urlhaus/v1/url/ url=http%3A%2F%2Ffine.example%2F",
            "POST /urlhaus/v1/host/ host=evil.example", "POST /urlhaus/v1/host/ host=198.51.100.7",
            "POST /urlhaus/v1/host/ host=fine.example", "POST /urlhaus/v1/host/ host=-invalid-",
            "POST /urlhaus/v1/payload/ md5_hash=\(Self.eicar)", "POST /urlhaus/v1/payload/ sha256_hash=\(Self.sha256)",
        ], "the SHA-1 is not sent")
    }

    @Test("URLhaus: a refused Auth-Key, a 429 waited out, a 5xx tried three times, and malformed JSON")
    func urlhausFailures() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.urlhaus(server)
        defer { integrations.shutdown() }
        await Self.expectRetried(integrations, "URLhaus", "domain", "rate.example",
                                 Self.verdict("URLhaus", .b, .suspicious, "2 malware URLs, 0 online"),
                                 log: log, request: "POST /urlhaus/v1/host/ host=rate.example")
        #expect(await Self.ask(integrations, "URLhaus", "domain", "broken.example") == Self.failure("URLhaus", .b, "URLhaus answered 502"))
        #expect(log.count("POST /urlhaus/v1/host/ host=broken.example") == 3, "three attempts")
        #expect(await Self.ask(integrations, "URLhaus", "domain", "garbled.example")
            == Self.failure("URLhaus", .b, "URLhaus answered 200 without query_status"))

        let refused = await Self.urlhaus(server, key: "wrong-key")
        defer { refused.shutdown() }
        #expect(await Self.ask(refused, "URLhaus", "domain", "evil.example")
            == Self.failure("URLhaus", .b, "URLhaus refused the Auth-Key (403): check auth_key"))
        #expect(log.count("POST /urlhaus/v1/host/ host=evil.example") == 1, "a 403 is not tried again")
    }

    // MARK: - MISP

    @Test("MISP: every kind is a JSON restSearch with the key in Authorization; to_ids makes it malicious, and the reason names the events")
    func mispVerdicts() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.misp(server)
        defer { integrations.shutdown() }
        #expect(Self.problems(integrations)["integrations/misp.lua"] == nil, "\(integrations.problems)")
        func v(_ score: Score, _ reason: String) -> SourceVerdict { Self.verdict("MISP", .b, score, reason) }
        #expect(await Self.ask(integrations, "MISP", "ip", "198.51.100.7")
            == v(.malicious, #"for IDS in event 12 "Emotet C2 servers", event 15 "Phishing wave""#))
        #expect(await Self.ask(integrations, "MISP", "domain", "evil.example")
            == v(.suspicious, #"in event 1 "Report 1", event 2 "Report 2", event 3 "Report 3" and 2 more, not for IDS"#))
        #expect(await Self.ask(integrations, "MISP", "email", "ceo@evil.example") == v(.malicious, #"for IDS in event 7 "CEO fraud""#))
        #expect(await Self.ask(integrations, "MISP", "url", "http://fine.example/") == v(.unknown, "not in MISP"))
        #expect(await Self.ask(integrations, "MISP", "file", Self.eicar) == v(.unknown, "not in MISP"))
        #expect(log.all == [
            "POST /misp/attributes/restSearch 198.51.100.7", "POST /misp/attributes/restSearch evil.example",
            "POST /misp/attributes/restSearch ceo@evil.example", "POST /misp/attributes/restSearch http://fine.example/",
            "POST /misp/attributes/restSearch \(Self.eicar)",
        ], "the trailing / of base_url is dropped; the body is {value, returnFormat: json}")
    }

    @Test("MISP: a refused key, a 429 waited out, a 5xx tried three times, malformed JSON, and base_url required")
    func mispFailures() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.misp(server)
        defer { integrations.shutdown() }
        await Self.expectRetried(integrations, "MISP", "ip", "203.0.113.66", Self.verdict("MISP", .b, .malicious, #"for IDS in event 9 "Scanner""#),
                                 log: log, request: "POST /misp/attributes/restSearch 203.0.113.66")
        #expect(await Self.ask(integrations, "MISP", "ip", "203.0.113.50") == Self.failure("MISP", .b, "MISP answered 500"))
        #expect(log.count("POST /misp/attributes/restSearch 203.0.113.50") == 3, "three attempts")
        #expect(await Self.ask(integrations, "MISP", "ip", "203.0.113.99")
            == Self.failure("MISP", .b, "MISP answered 200 without response.Attribute"))

        let refused = await Self.misp(server, key: "wrong-key")
        defer { refused.shutdown() }
        #expect(await Self.ask(refused, "MISP", "ip", "198.51.100.7")
            == Self.failure("MISP", .b, "MISP refused the API key (403): check api_key"))
        #expect(log.count("POST /misp/attributes/restSearch refused") == 1, "a 403 is not tried again")

        let noURL = await Self.integrations("misp", ["api_key": Self.mispKey])
        defer { noURL.shutdown() }
        #expect(Self.problems(noURL)["integrations/misp.lua"]
            == "base_url is not set: set the environment variable MISP_URL, or integrations.misp.base_url in the configuration file")
        #expect(!noURL.available.contains { $0.name == "MISP" })
    }

    // MARK: - OTX

    @Test("OTX: each kind reaches its documented general section with X-OTX-API-KEY; the pulse count becomes the verdict")
    func otxVerdicts() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.otx(server)
        defer { integrations.shutdown() }
        #expect(Self.problems(integrations)["integrations/otx.lua"] == nil, "\(integrations.problems)")
        func v(_ score: Score, _ reason: String) -> SourceVerdict { Self.verdict("OTX", .c, score, reason) }
        #expect(await Self.ask(integrations, "OTX", "ip", "198.51.100.7") == v(.malicious, "in 12 pulses"))
        #expect(await Self.ask(integrations, "OTX", "ip", "2001:db8::66") == v(.suspicious, "in 2 pulses"))
        #expect(await Self.ask(integrations, "OTX", "domain", "evil.example") == v(.suspicious, "in 1 pulse"))
        #expect(await Self.ask(integrations, "OTX", "url", "http://evil.example/pay") == v(.unknown, "in no OTX pulse"))
        #expect(await Self.ask(integrations, "OTX", "file", Self.eicar) == v(.malicious, "in 5 pulses"), "5 pulses convict")
        #expect(await Self.ask(integrations, "OTX", "ip", "203.0.113.9") == v(.unknown, "not in OTX"), "a 404 is unknown")
        #expect(await Self.ask(integrations, "OTX", "ip", "198.51.100.300") == v(.unknown, "not an indicator OTX checks"))
        #expect(await Self.ask(integrations, "OTX", "email", "a@b.example") == nil, "OTX does not handle e-mail")
        #expect(log.all == [
            "GET /otx/api/v1/indicators/IPv4/198.51.100.7/general", "GET /otx/api/v1/indicators/IPv6/2001:db8::66/general",
            "GET /otx/api/v1/indicators/domain/evil.example/general", "GET /otx/api/v1/indicators/url/http://evil.example/pay/general",
            "GET /otx/api/v1/indicators/file/\(Self.eicar)/general", "GET /otx/api/v1/indicators/IPv4/203.0.113.9/general",
            "GET /otx/api/v1/indicators/IPv4/198.51.100.300/general",
        ])
    }

    @Test("OTX: a refused key, a 429 waited out, a 5xx tried three times, and malformed JSON")
    func otxFailures() async throws {
        let log = Log()
        let server = try await Self.servers(log)
        defer { server.stop() }
        let integrations = await Self.otx(server)
        defer { integrations.shutdown() }
        await Self.expectRetried(integrations, "OTX", "ip", "203.0.113.66", Self.verdict("OTX", .c, .malicious, "in 7 pulses"),
                                 log: log, request: "GET /otx/api/v1/indicators/IPv4/203.0.113.66/general")
        #expect(await Self.ask(integrations, "OTX", "ip", "203.0.113.50") == Self.failure("OTX", .c, "OTX answered 503"))
        #expect(log.count("GET /otx/api/v1/indicators/IPv4/203.0.113.50/general") == 3, "three attempts")
        #expect(await Self.ask(integrations, "OTX", "ip", "203.0.113.99")
            == Self.failure("OTX", .c, "OTX answered 200 without pulse_info.count"))

        let refused = await Self.otx(server, key: "wrong-key")
        defer { refused.shutdown() }
        #expect(await Self.ask(refused, "OTX", "ip", "198.51.100.7") == Self.failure("OTX", .c, "OTX refused the API key (403): check api_key"))
        #expect(log.count("GET /otx/api/v1/indicators/IPv4/198.51.100.7/general") == 1, "a 403 is not tried again")
    }

    // MARK: - Settings

    @Test("Without their keys the four are left out, each naming what to set; from the environment they load, with their kinds")
    func settings() async throws {
        let bare = await Integrations(folder: Self.scripts, settings: [:], environment: [:], logger: Self.logger)
        defer { bare.shutdown() }
        let problems = Self.problems(bare)
        #expect(problems["integrations/xforce.lua"]
            == "credentials is not set: set the environment variable XFORCE_CREDENTIALS, or integrations.xforce.credentials in the configuration file")
        #expect(problems["integrations/urlhaus.lua"]
            == "auth_key is not set: set the environment variable URLHAUS_AUTH_KEY, or integrations.urlhaus.auth_key in the configuration file")
        #expect(problems["integrations/otx.lua"]
            == "api_key is not set: set the environment variable OTX_API_KEY, or integrations.otx.api_key in the configuration file")
        #expect(problems["integrations/misp.lua"] != nil)
        #expect(!bare.available.contains { ["X-Force", "URLhaus", "MISP", "OTX"].contains($0.name) })

        let environment = ["XFORCE_CREDENTIALS": Self.xforceCredentials, "URLHAUS_AUTH_KEY": Self.urlhausKey,
                           "MISP_URL": "https://misp.example", "MISP_API_KEY": Self.mispKey, "OTX_API_KEY": Self.otxKey]
        let configured = await Integrations(folder: Self.scripts, settings: [:], environment: environment, logger: Self.logger)
        defer { configured.shutdown() }
        #expect(Self.problems(configured).isEmpty, "\(configured.problems)")
        let kinds = Dictionary(configured.available.map { ($0.name, $0.kinds) }, uniquingKeysWith: { first, _ in first })
        #expect(kinds["X-Force"] == ["domain", "file", "ip", "url"])
        #expect(kinds["URLhaus"] == ["domain", "file", "ip", "url"])
        #expect(kinds["MISP"] == ["domain", "email", "file", "ip", "url"])
        #expect(kinds["OTX"] == ["domain", "file", "ip", "url"])
    }
}
