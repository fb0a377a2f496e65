// swift-tools-version:6.1

// Benchmarks for Automator, kept out of the main package's build and tests.
//
//   swift run -c release --package-path Benchmarks LuaHostBenchmarks --automator .build/release/automator
//
// See docs/BENCHMARKS.md for the figures, their goals and the latest numbers.

import PackageDescription

let package = Package(
    name: "automator-benchmarks",
    dependencies: [
        .package(name: "automator", path: ".."),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // What the harnesses share: reading their options (ArgumentParser, exit status 2 on a
        // mistake), starting `automator serve`, counting CPU time.
        .target(
            name: "BenchSupport",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The C baseline of the host-call figure, and what the harness needs to reach Lua directly.
        // No Lua library of its own: it uses the one AutomatorRuntime's CLua links (one copy).
        .target(name: "CLuaBenchSupport"),
        .executableTarget(
            name: "LuaHostBenchmarks",
            dependencies: [
                "BenchSupport",
                "CLuaBenchSupport",
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The store's durable throughput against plain batched SQLite inserts (GRDB directly),
        // alone and end to end under Lua runs.
        .executableTarget(
            name: "StoreBenchmarks",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Incidents end to end (ingest, playbook, close) against raw inserts of incident rows.
        .executableTarget(
            name: "IncidentBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The journal's hash chains: appends with and without them, and verification.
        .executableTarget(
            name: "JournalBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // A report over 1,000,000 incidents against a plain SQL aggregate over the same rows.
        .executableTarget(
            name: "ReportBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // Recovery after SIGKILL: time until every run in flight runs again.
        .executableTarget(
            name: "RecoveryBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
            ]
        ),
        // Several workers on one PostgreSQL (postgres-server.sh starts one): runs per second with
        // 1, 2 and 3 workers, the cost of a run against SQLite, and the failover time.
        .executableTarget(
            name: "SharedStoreBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Several `automator serve` processes on one PostgreSQL against one on SQLite: incidents
        // per second through the API, failover after a SIGKILL, and the exactly-once check.
        .executableTarget(
            name: "SharedServeBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The scheduler: host-call round trip, memory per waiting run.
        .executableTarget(
            name: "SchedulerBenchmarks",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Indicator extraction: precision, recall and F1 per type on a labeled corpus against
        // iocextract and ioc-finder (through corpus/extraction/peers.py), and throughput.
        .executableTarget(
            name: "ExtractionBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
            ]
        ),
        // Local threat-intel feeds: lookups per second on one core and resident bytes per
        // indicator, over 1,000,000 indicators in text, CSV, STIX and MISP feeds.
        .executableTarget(
            name: "FeedBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The action path (checks, records, journal, the integration's run) against a bare
        // http.post to the same loopback API, in durable runs.
        .executableTarget(
            name: "ActionBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The chat bot end to end through a real `automator serve`: messages answered per second
        // and the latency from event to reply, against Slack's Web API on loopback. Only the
        // binary is needed, not the runtime; the sender and the API on plain SwiftNIO, lean.
        .executableTarget(
            name: "ChatBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // What an outbound call through AsyncHTTPClient costs, as the process's clients make it
        // and with its default pool, against a plain SwiftNIO client.
        .executableTarget(
            name: "HTTPClientBenchmark",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AutomatorRuntime", package: "automator"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)

for target in package.targets where target.type == .executable {
    target.swiftSettings = [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
    ]
}
