// swift-tools-version:6.1

import PackageDescription

let package = Package(
    name: "automator",
    products: [
        .executable(name: "automator", targets: ["automator"]),
        .library(name: "AutomatorRuntime", targets: ["AutomatorRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // SHA-256 of recorded host calls now; HMAC (Slack), Ed25519 (journal) and MD5/SHA-1
        // (evidence) later.
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        // `automator serve`: HTTP on SwiftNIO, and a graceful stop on SIGTERM/SIGINT.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The http module: HTTP/1.1 and 2 over TLS, pooled, on the SwiftNIO the server runs on.
        // (URLSession links libcurl and some forty shared libraries: 6.5 ms on every start.)
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // Socket Mode's CONNECT through an outbound proxy (already built for async-http-client).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        // STARTTLS for the smtp module (the http module's TLS comes through async-http-client).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        // The configuration file (`--config automator.yml`), with line numbers for its errors.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // The PostgreSQL store (`--store postgres://…`): several `serve` workers on one database.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The only code that may raise a Lua error or yield: trampolines, the sandbox, the limits.
        .target(
            name: "CLua",
            // Statically: calls into the shared library go through the PLT, which made every
            // instruction-heavy script ~8% slower than the stock (static) interpreter.
            linkerSettings: [.linkedLibrary(":liblua5.4.a"), .linkedLibrary("m")]
        ),
        // SHA-256 in one call with the CPU's SHA instructions, for the journal's chains.
        .target(name: "CDigest"),
        // Hex digests decoded with SSE2 on every feed lookup of a hash (a plain loop elsewhere).
        .target(name: "CHexDigits"),
        // A prefetch for batched feed lookups: each table slot's read started before any is used.
        .target(name: "CPrefetch"),
        // Line editing for the REPL (BSD libedit, Debian's libedit-dev).
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit"),
        // Inflating a bundle someone repacked with compression (`evidence verify`): Debian's zlib1g-dev.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib"),
        .target(
            name: "AutomatorRuntime",
            dependencies: [
                "CLua",
                "CDigest",
                "CHexDigits",
                "CPrefetch",
                "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for what GRDB does not wrap (keeping the WAL at close).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The HTTP API of `automator serve`, over the runtime.
        .target(
            name: "AutomatorServer",
            dependencies: [
                "AutomatorRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                // Slack's events answered in the connection's pipeline, ahead of the router.
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "automator",
            dependencies: [
                "AutomatorRuntime",
                "AutomatorServer",
                "CEditLine",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "AutomatorRuntime",
                // SHA-256 in C, checked against swift-crypto's.
                "CDigest",
                .product(name: "Crypto", package: "swift-crypto"),
                // The Slack routes, tested through a real server on loopback.
                "AutomatorServer",
                .product(name: "Logging", package: "swift-log"),
                "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                // A connection's handlers on a clock the test moves.
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        // What both test targets use: real HTTP servers on loopback, a fake Slack, a real Synapse, the
        // reports' fixture.
        .target(
            name: "TestSupport",
            dependencies: [
                "AutomatorRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                // Signs the fake Slack's requests and Synapse's registrations; talks to Synapse.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                // Slack's Socket Mode end, over TLS too.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/TestSupport"
        ),
        // Runs the built `automator` binary as a real process.
        .testTarget(
            name: "CLITests",
            dependencies: [
                "automator", "TestSupport", .product(name: "Hummingbird", package: "hummingbird"),
                // Changes a database behind the binary's back (the journal's tamper tests).
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            resources: [.copy("Fixtures")]
        ),
    ]
)

// Swift settings, for the Swift targets only (the C ones would refuse them).
for target in package.targets where target.type != .system && !["CLua", "CDigest", "CHexDigits", "CPrefetch"].contains(target.name) {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
