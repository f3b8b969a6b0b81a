// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "pgperm",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "PQ", targets: ["PQ"]),
        .library(name: "Permissions", targets: ["Permissions"]),
        .library(name: "PermissionsHummingbird", targets: ["PermissionsHummingbird"]),
        .library(name: "LocalPostgres", targets: ["LocalPostgres"]),
        .library(name: "TenantPlatform", targets: ["TenantPlatform"]),
        .executable(name: "pgperm", targets: ["pgperm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // jwt-kit 5.8 needs swift-crypto 4; the range keeps 3.12.3 for anything else that asks for 3.
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        // Hummingbird's own foundations, named for the portal's connection timeout handler.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // Single sign-on: ID-token signatures and claims, and the calls to the identity provider.
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // The portal's request metrics, exported in Prometheus text at /metrics.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // libpq, the PostgreSQL C client library (Debian: libpq-dev).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"]), .brew(["libpq"])]
        ),
        // The Swift face of libpq: connections, queries, scripts, errors, pool.
        .target(
            name: "PQ",
            dependencies: ["CLibPQ", .product(name: "Logging", package: "swift-log")]
        ),
        // A PostgreSQL cluster on this machine: initdb, start, stop (for `pgperm up` and tests).
        .target(
            name: "LocalPostgres",
            dependencies: ["PQ", .product(name: "Logging", package: "swift-log")]
        ),
        // Embeds sql/ into Permissions and web/ into AdminPortal at build time, so an installed
        // binary needs no files on disk.
        .executableTarget(name: "EmbedFilesTool"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["EmbedFilesTool"]),
        // Typed wrappers for the auth schema and the schema installer.
        .target(
            name: "Permissions",
            dependencies: ["PQ", .product(name: "Logging", package: "swift-log")],
            plugins: ["EmbedFiles"]
        ),
        // Hummingbird middleware for Swift services: RequirePermission("users.create_user") on a
        // route group, checked through a PermissionCache. A module of its own, so Permissions
        // does not depend on Hummingbird.
        .target(
            name: "PermissionsHummingbird",
            dependencies: [
                "PQ", "Permissions",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // The database-per-tenant platform: master registry, provisioning, encrypted
        // credentials, tenant connection pools, migrations across tenants.
        .target(
            name: "TenantPlatform",
            dependencies: [
                // LocalPostgres finds pg_dump and pg_restore for moving tenants between servers.
                "PQ", "Permissions", "LocalPostgres",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // OpenID Connect sign-in for an organization's tenants (Microsoft Entra ID or any
        // provider with a discovery document): discovery, the key set, ID-token checks, and the
        // single-use login attempts kept in the master database.
        .target(
            name: "SingleSignOn",
            dependencies: [
                "PQ", "Permissions", "TenantPlatform",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The HTTP face of the platform: the admin portal at /admin/ and the tenant APIs at /t/{slug}/api/.
        .target(
            name: "AdminPortal",
            dependencies: [
                // PermissionsHummingbird: the one JSON error shape (PermissionHTTPError).
                "PQ", "Permissions", "PermissionsHummingbird", "TenantPlatform", "SingleSignOn",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            plugins: ["EmbedFiles"]
        ),
        // `pgperm bench`: the check against a one-lookup baseline, end to end, and write costs.
        .target(
            name: "Benchmark",
            dependencies: ["PQ", "Permissions", "LocalPostgres"]
        ),
        .executableTarget(
            name: "pgperm",
            dependencies: [
                "PQ", "Permissions", "LocalPostgres", "Benchmark", "TenantPlatform", "AdminPortal", "SingleSignOn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The README's Swift tour as a program: `swift run pgperm-example DATABASE_URL`.
        .executableTarget(
            name: "pgperm-example",
            dependencies: ["PQ", "Permissions"],
            path: "Examples/QuickStart"
        ),
        // The README's Hummingbird service: RequirePermission on route groups.
        .executableTarget(
            name: "pgperm-hummingbird-example",
            dependencies: [
                "PQ", "Permissions", "PermissionsHummingbird",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Examples/HummingbirdService"
        ),
        // One disposable PostgreSQL cluster per test run, a fresh database per test.
        .target(
            name: "PostgresTestSupport",
            dependencies: [
                "PQ", "LocalPostgres", "Permissions",
                // TOTPGenerator: the authenticator app of the second-factor tests.
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // A platform with its own master database on the disposable cluster, for platform and portal tests.
        .target(
            name: "PlatformTestSupport",
            dependencies: [
                "PQ", "LocalPostgres", "PostgresTestSupport", "TenantPlatform",
                // oidc-provider-mock, the OpenID provider of the single sign-on tests.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "PQTests", dependencies: ["PQ", "PostgresTestSupport"]),
        .testTarget(name: "PermissionsTests", dependencies: ["Permissions", "PQ", "PostgresTestSupport"]),
        .testTarget(name: "PermissionsHummingbirdTests", dependencies: [
            "PermissionsHummingbird", "Permissions", "PQ", "PostgresTestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "AdminPortalTests", dependencies: [
            "AdminPortal", "TenantPlatform", "Permissions", "PQ", "PlatformTestSupport", "PostgresTestSupport", "SingleSignOn",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "TenantPlatformTests", dependencies: [
            "TenantPlatform", "Permissions", "PQ", "LocalPostgres", "PostgresTestSupport", "PlatformTestSupport",
        ]),
    ]
)
