import Foundation
import Testing
@testable import MRDKit

private let germline = try! GermlineReference.bundled()
private let annotator = Annotator(germline: germline)
private let recombination = RecombinationModel(germline: germline)

@Suite("Read annotation")
struct AnnotationTests {
    static let cases: [(Locus, RearrangementKind)] = [(.IGH, .VDJ), (.IGH, .DJ), (.IGK, .VJ), (.IGK, .vKde), (.IGK, .intronKde),
                                                      (.TRB, .VDJ), (.TRB, .DJ), (.TRG, .VJ), (.TRD, .VDJ), (.TRD, .VD), (.TRD, .DD)]

    @Test("simulated amplicons read with errors, either orientation: locus, kind, junction, V and J",
          arguments: cases)
    func simulatedReads(_ locus: Locus, _ kind: RearrangementKind) {
        var random = SeededRandom(seed: 99, stream: "\(locus)\(kind)")
        let sequencing = SequencingModel()
        let table = sequencing.qualityTable()
        var bases: [UInt8] = [], qualities: [UInt8] = []
        let n = 400
        var reasons: [UnassignedReason: Int] = [:]
        var covered = 0, annotated = 0, placed = 0, kindRight = 0, vRight = 0, jRight = 0
        for i in 0..<n {
            var choices = RecombinationModel.Choices()
            let truth = recombination.rearrange(locus, kind: kind, using: &random, choices: &choices)
            let reverse = i % 2 == 1
            let template = reverse ? reverseComplement(truth.sequence) : truth.sequence
            sequencing.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
            // Where the junction lies in the read turned V-to-J; only reads that hold it with 12 nt
            // of germline on each side can be asked to place it.
            let offset = reverse ? truth.sequence.count - bases.count : 0
            let start = truth.junctionStart - offset, end = truth.junctionEnd - offset
            guard start >= 12 && end + 12 <= bases.count && bases.count == min(150, truth.sequence.count) else { continue }
            covered += 1
            let result = annotator.annotate(bases)
            guard case .success(let a) = result else {
                if case .failure(let reason) = result { reasons[reason, default: 0] += 1 }
                continue
            }
            annotated += 1
            if a.locus == locus && a.kind == kind { kindRight += 1 }
            if a.reversed == reverse && a.junctionStart == start && a.junctionEnd == end { placed += 1 }
            func gene(_ allele: Substring) -> Substring { allele.split(separator: "*").first ?? allele }
            func sameGene(_ call: String, _ truth: String) -> Bool {
                truth.isEmpty || call.split(separator: ",").contains { gene($0) == gene(Substring(truth)) }
            }
            if sameGene(a.vCall, truth.vCall) { vRight += 1 }
            if sameGene(a.jCall, truth.jCall) { jRight += 1 }
        }
        print("annotation \(locus) \(kind): covered \(covered) annotated \(annotated) placed \(placed) kind \(kindRight) V \(vRight) J \(jRight) \(reasons)")
        #expect(covered >= n / 3)
        #expect(annotated >= covered * 97 / 100)
        #expect(kindRight >= annotated * 99 / 100)
        #expect(placed >= covered * 95 / 100)
        #expect(vRight >= annotated * 95 / 100)
        #expect(jRight >= annotated * 97 / 100)
    }
}
