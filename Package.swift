// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "mrd",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "MRDKit", targets: ["MRDKit"]),
        .executable(name: "mrd", targets: ["mrd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
        ),
        // Debian's libbz2-dev ships no .pc file, so no pkgConfig here.
        .systemLibrary(
            name: "CBzip2",
            providers: [.apt(["libbz2-dev"]), .brew(["bzip2"])]
        ),
        // Optional ISA-L inflate: compiled in when <isa-l/igzip_lib.h> is present at build time and
        // loaded with dlopen at run time, so the default build and binary need only zlib and libbz2.
        .target(
            name: "CIsal",
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        // Byte loops of the hot path (alphabet checks, base and quality tallies), vectorised by clang.
        .target(name: "CSequenceKernels"),
        .target(
            name: "MRDKit",
            dependencies: ["CZlib", "CBzip2", "CIsal", "CSequenceKernels"],
            // Germline FASTA shipped verbatim (IMGT's licence forbids altered copies); see SOURCES.md.
            resources: [.copy("Resources/germline")]
        ),
        // Parser probes with the properties that must hold on any bytes: the fuzz targets'
        // entry (Scripts/fuzz) and the tests' replay of the fuzz corpus; not part of the command.
        .target(
            name: "MRDProbes",
            dependencies: ["MRDKit", "CZlib", "CBzip2"]
        ),
        .executableTarget(
            name: "mrd",
            dependencies: [
                "MRDKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "MRDKitTests",
            dependencies: ["MRDKit", "MRDProbes", "CZlib", "CBzip2", "CSequenceKernels"]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["mrd"]
        ),
    ]
)
