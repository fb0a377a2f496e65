@testable import AutomatorRuntime
import Foundation
import Testing

@Suite("The PostgreSQL store's address and password")
struct PostgresLocationTests {
    @Test("An address as psql writes it: user, host, port, database, sslmode, a socket folder")
    func parsing() throws {
        let full = try PostgresLocation(url: "postgres://soc@db.example:6432/automator?sslmode=verify-full")
        #expect(full.user == "soc" && full.host == "db.example" && full.port == 6432 && full.database == "automator")
        #expect(full.tls == .verifyFull)
        // Shown as it connects: a pasted address keeps its TLS.
        #expect(full.description == "postgres://soc@db.example:6432/automator?sslmode=verify-full")
        let rooted = try PostgresLocation(url: "postgres://soc@db/a?sslmode=verify-ca&sslrootcert=/etc/ca.pem")
        #expect(try PostgresLocation(url: rooted.description) == rooted)
        let short = try PostgresLocation(url: "postgresql://soc@db.example")
        #expect(short.port == 5432 && short.database == "soc" && short.tls == .prefer)
        let socket = try PostgresLocation(url: "postgres://soc@/automator?host=/run/postgresql")
        #expect(socket.socketFolder == "/run/postgresql")
        #expect(socket.description == "postgres://soc@localhost:5432/automator?host=/run/postgresql")
    }

    @Test("A password, no user, a port out of range, an unknown sslmode or parameter are refused, saying what to write")
    func refusals() {
        func refusal(_ url: String) -> String {
            do { _ = try PostgresLocation(url: url) } catch { return error.description }
            return "accepted"
        }
        let password = refusal("postgres://soc:hunter2@db/automator")
        #expect(password.contains("PGPASSWORD") && !password.contains("hunter2"))
        #expect(refusal("postgres://db.example/automator").contains("names no user"))
        #expect(refusal("postgres://soc@db/a?sslmode=always").contains("sslmode must be one of disable, prefer"))
        #expect(refusal("postgres://soc@db/a?connect_timeout=3").contains("unknown parameter connect_timeout"))
        #expect(refusal("/var/lib/automator").contains("not a postgres://"))
        // Taken modulo 65,536, 99999 connected to port 34463.
        #expect(refusal("postgres://soc@db:99999/a").contains("its port 99999 is out of range: a port is 1 to 65535"))
        #expect(refusal("postgres://soc@db:0/a").contains("its port 0 is out of range"))
    }

    @Test("The password comes from PGPASSWORD, else the first matching pgpass line; a pgpass others can read is refused")
    func password() throws {
        let location = try PostgresLocation(url: "postgres://soc@db.example:5432/automator")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try """
            # comment
            other.example:5432:automator:soc:wrong
            db.example:5432:*:soc:pa\\:ss\\\\word
            *:*:*:*:fallback
            """.write(toFile: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        #expect(try PostgresPassword.find(for: location, environment: ["PGPASSFILE": file]) == #"pa:ss\word"#)
        #expect(try PostgresPassword.find(for: location, environment: ["PGPASSFILE": file, "PGPASSWORD": "env"]) == "env")
        let elsewhere = try PostgresLocation(url: "postgres://ops@elsewhere/x")
        #expect(try PostgresPassword.find(for: elsewhere, environment: ["PGPASSFILE": file]) == "fallback")
        #expect(try PostgresPassword.find(for: location, environment: ["PGPASSFILE": file + ".none"]) == nil)

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        #expect(throws: StoreError.self) { try PostgresPassword.find(for: location, environment: ["PGPASSFILE": file]) }
    }
}
