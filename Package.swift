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
    ],
    targets: [
        // The only code that may raise a Lua error or yield: trampolines, the sandbox, the limits.
        .target(
            name: "CLua",
            // Statically: calls into the shared library go through the PLT, which made every
            // instruction-heavy script ~8% slower than the stock (static) interpreter.
            linkerSettings: [.linkedLibrary(":liblua5.4.a"), .linkedLibrary("m")]
        ),
        // Line editing for the REPL (BSD libedit, Debian's libedit-dev).
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit"),
        .target(
            name: "AutomatorRuntime",
            dependencies: [
                "CLua",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "automator",
            dependencies: [
                "AutomatorRuntime",
                "CEditLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "RuntimeTests",
            dependencies: [
                "AutomatorRuntime",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Runs the built `automator` binary as a real process.
        .testTarget(
            name: "CLITests",
            dependencies: ["automator"],
            resources: [.copy("Fixtures")]
        ),
    ]
)

for target in package.targets where target.type != .system && target.name != "CLua" {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
