import AutomatorRuntime
import Foundation
import Testing

@Suite("Personal API tokens in the store: SQLite and PostgreSQL")
struct PersonalTokenStoreTests {
    @Test("A token is kept by its SHA-256, found by it from a second store on the same storage, one live per name, and not found once revoked", .timeLimit(.minutes(1)), arguments: StoreUnderTest.allCases)
    func lifecycle(_ kind: StoreUnderTest) async throws {
        let open = try await kind.opener()
        let worker1 = try #require(try await open() as? any PersonalTokenStore)
        let worker2 = try #require(try await open() as? any PersonalTokenStore)
        let (secret, alice) = PersonalToken.make(name: "alice", by: "cli:root", at: IncidentStoreConformance.time(0))
        #expect(alice.sha256 == PersonalToken.digest(of: secret) && alice.sha256.count == 64 && !alice.sha256.contains(secret))
        try await worker1.addPersonalToken(alice)
        #expect(try await worker2.livePersonalToken(sha256: PersonalToken.digest(of: secret)) == alice)
        #expect(try await worker2.livePersonalToken(sha256: PersonalToken.digest(of: secret + "0")) == nil)

        let second = PersonalToken.make(name: "alice", by: "api", at: IncidentStoreConformance.time(5)).token
        await #expect { try await worker2.addPersonalToken(second) } throws: {
            ($0 as? StoreError)?.kind == .conflict && "\($0)".contains("automator token revoke alice")
        }
        try await worker2.revokePersonalToken(named: "alice", at: IncidentStoreConformance.time(9))
        #expect(try await worker1.livePersonalToken(sha256: alice.sha256) == nil, "revoked, for every worker")
        await #expect { try await worker1.revokePersonalToken(named: "alice", at: IncidentStoreConformance.time(10)) } throws: {
            ($0 as? StoreError)?.kind == .notFound
        }
        try await worker1.addPersonalToken(second)
        let bob = PersonalToken.make(name: "bob", by: "cli:root", at: IncidentStoreConformance.time(7)).token
        try await worker1.addPersonalToken(bob)

        var revoked = alice
        revoked.revokedAt = IncidentStoreConformance.time(9)
        #expect(try await worker2.personalTokens() == [second, revoked, bob], "by name, the newest of a name first")
        await worker1.close()
        await worker2.close()
    }

    @Test("A rotation revokes the name's live token and keeps the new one at once, metrics-only as the old; a use is noted on the token", .timeLimit(.minutes(1)), arguments: StoreUnderTest.allCases)
    func rotationAndUse(_ kind: StoreUnderTest) async throws {
        let open = try await kind.opener()
        let worker1 = try #require(try await open() as? any PersonalTokenStore)
        let worker2 = try #require(try await open() as? any PersonalTokenStore)
        let prometheus = PersonalToken.make(name: "prometheus", by: "cli:root", at: IncidentStoreConformance.time(0),
                                            metricsOnly: true).token
        try await worker1.addPersonalToken(prometheus)
        #expect(try await worker2.livePersonalToken(sha256: prometheus.sha256)?.lastUsedAt == nil)
        try await worker2.notePersonalTokenUse(sha256: prometheus.sha256, at: IncidentStoreConformance.time(3))
        #expect(try await worker1.livePersonalToken(sha256: prometheus.sha256)?.lastUsedAt == IncidentStoreConformance.time(3))

        let next = PersonalToken.make(name: "prometheus", by: "api", at: IncidentStoreConformance.time(5)).token
        let kept = try await worker2.rotatePersonalToken(to: next, at: IncidentStoreConformance.time(5))
        #expect(kept.metricsOnly && kept.sha256 == next.sha256 && kept.createdBy == "api")
        #expect(try await worker1.livePersonalToken(sha256: prometheus.sha256) == nil, "the old one refused")
        #expect(try await worker1.livePersonalToken(sha256: next.sha256) == kept)
        let all = try await worker1.personalTokens()
        #expect(all.map(\.sha256) == [next.sha256, prometheus.sha256]
                && all.last?.revokedAt == IncidentStoreConformance.time(5) && all.last?.lastUsedAt == IncidentStoreConformance.time(3))

        let nobody = PersonalToken.make(name: "bob", by: "api").token
        await #expect { _ = try await worker1.rotatePersonalToken(to: nobody, at: Date()) } throws: {
            ($0 as? StoreError)?.kind == .notFound && "\($0)".contains("automator token add bob")
        }
        #expect(try await worker1.livePersonalToken(sha256: nobody.sha256) == nil)
        await worker1.close()
        await worker2.close()
    }

    @Test("An ingest-only token keeps its source, for every worker and through a rotation", .timeLimit(.minutes(1)), arguments: StoreUnderTest.allCases)
    func ingestOnly(_ kind: StoreUnderTest) async throws {
        let open = try await kind.opener()
        let worker1 = try #require(try await open() as? any PersonalTokenStore)
        let worker2 = try #require(try await open() as? any PersonalTokenStore)
        let splunk = PersonalToken.make(name: "splunk", by: "cli:root", at: IncidentStoreConformance.time(0),
                                        ingestOnly: "splunk").token
        try await worker1.addPersonalToken(splunk)
        #expect(try await worker2.livePersonalToken(sha256: splunk.sha256) == splunk)

        let next = PersonalToken.make(name: "splunk", by: "api", at: IncidentStoreConformance.time(5)).token
        let kept = try await worker2.rotatePersonalToken(to: next, at: IncidentStoreConformance.time(5))
        #expect(kept.ingestOnly == "splunk" && !kept.metricsOnly, "a rotation widens nothing")
        #expect(try await worker1.livePersonalToken(sha256: next.sha256)?.ingestOnly == "splunk")
        #expect(try await worker1.personalTokens().map(\.ingestOnly) == ["splunk", "splunk"])
        await worker1.close()
        await worker2.close()
    }
}
