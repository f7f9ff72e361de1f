import ArgumentParser
import Foundation
import MRDKit

struct Annotate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Annotate every read (or sequence) as an AIRR Rearrangement row, in input order.",
        discussion: """
        One row per read: locus, V/D/J calls, junction, gapped V alignment with its identity, or \
        the reason the read got none (mrd_unassigned_reason). Paired-end mates that overlap are \
        merged; for pairs that do not, the mate is used when read 1 does not span the junction, and \
        when both do, the one that read the junction at the better quality. Spike-ins are not recognised here.
        """)

    @OptionGroup var files: ReadFiles
    @Option(name: [.customShort("o"), .long], help: "Output AIRR TSV (written whole or not at all).") var output: String
    @Option(name: .long, help: "Loci to annotate, comma-separated.") var loci = Locus.allCases.map(\.rawValue).joined(separator: ",")
    @Option(name: .long, help: "Germline folder in the layout of the bundled one (default: bundled).") var germline: String?
    @OptionGroup var threadOptions: ThreadOptions
    @Flag(name: .long, help: "No summary line on stderr (a low_v_identity warning is still printed).") var quiet = false

    func parsedLoci() throws -> [Locus] {
        try parseList(loci, option: "--loci", expected: "one of IGH, IGK, IGL, TRB, TRG, TRD", Locus.init(rawValue:))
    }

    func validate() throws { _ = try parsedLoci() }

    func run() throws {
        try runReportingErrors {
            let context = try AnalysisContext.load(germlineDirectory: germline, loci: try parsedLoci())
            let summary = try ReadAnnotationRun(input: files.input(threads: threadOptions.threads), threads: threadOptions.threads)
                .run(annotator: context.annotator, path: output)
            if !quiet || summary.vIdentity.isLow { printNote("annotate", summary.line) }
        }
    }
}
