import CSequenceKernels
import Foundation
import Testing
@testable import MRDKit

private let germline = try! GermlineReference.bundled()
private let annotator = Annotator(germline: germline)
private let recombination = RecombinationModel(germline: germline)

/// Where a rearrangement's junction lies in a read of its first `readLength` bases (from the J
/// side when `reverse`), counted on the read turned V-to-J.
private func junctionInRead(_ truth: Rearrangement, readLength: Int, reverse: Bool) -> (Int, Int) {
    let offset = reverse ? truth.sequence.count - readLength : 0
    return (truth.junctionStart - offset, truth.junctionEnd - offset)
}

@Suite("Read annotation")
struct AnnotationTests {
    static let cases: [(Locus, RearrangementKind)] = [(.IGH, .VDJ), (.IGH, .DJ), (.IGK, .VJ), (.IGK, .vKde), (.IGK, .intronKde),
                                                      (.TRB, .VDJ), (.TRB, .DJ), (.TRG, .VJ), (.TRD, .VDJ), (.TRD, .VD), (.TRD, .DD)]

    @Test("simulated amplicons read with errors, either orientation: locus, kind, junction, V and J",
          arguments: cases)
    func simulatedReads(_ locus: Locus, _ kind: RearrangementKind) {
        let sequencing = SequencingModel()
        let table = sequencing.qualityTable()
        var bases: [UInt8] = [], qualities: [UInt8] = []
        var reasons: [UnassignedReason: Int] = [:]
        var covered = 0, annotated = 0, placed = 0, locusRight = 0, kindRight = 0, vRight = 0, jRight = 0, singleV = 0
        for seed in [99, 100, 101] as [UInt64] {
            var random = SeededRandom(seed: seed, stream: "\(locus)\(kind)")
            for i in 0..<300 {
                var choices = RecombinationModel.Choices()
                let truth = recombination.rearrange(locus, kind: kind, using: &random, choices: &choices)
                let reverse = i % 2 == 1
                let template = reverse ? reverseComplement(truth.sequence) : truth.sequence
                sequencing.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
                // Reads that hold the junction with >= 30 nt of germline on both sides (issue 4's
                // measure), positions in the read turned V-to-J.
                let (start, end) = junctionInRead(truth, readLength: bases.count, reverse: reverse)
                guard start >= 30 && end + 30 <= bases.count && bases.count == min(150, truth.sequence.count) else { continue }
                covered += 1
                let result = annotator.annotate(bases)
                guard case .success(let a) = result else {
                    if case .failure(let reason) = result { reasons[reason, default: 0] += 1 }
                    continue
                }
                annotated += 1
                if a.locus == locus { locusRight += 1 }
                if a.locus == locus && a.kind == kind { kindRight += 1 }
                if a.reversed == reverse && a.junctionStart == start && a.junctionEnd == end { placed += 1 }
                func gene(_ allele: Substring) -> Substring { allele.split(separator: "*").first ?? allele }
                func sameGene(_ call: String, _ truth: String) -> Bool {
                    truth.isEmpty || call.split(separator: ",").contains { gene($0) == gene(Substring(truth)) }
                }
                if sameGene(a.vCall, truth.vCall) { vRight += 1 }
                if sameGene(a.jCall, truth.jCall) { jRight += 1 }
                if Set(a.vCall.split(separator: ",").map { gene($0) }).count == 1 { singleV += 1 }
            }
        }
        print("annotation \(locus) \(kind): covered \(covered) annotated \(annotated) locus \(locusRight) kind \(kindRight) "
              + "placed \(placed) V \(vRight) (single gene \(singleV)) J \(jRight) \(reasons)")
        #expect(covered >= 300)
        #expect(annotated >= covered * 98 / 100)
        #expect(Double(locusRight) >= 0.995 * Double(covered))
        #expect(kindRight >= annotated * 99 / 100)
        #expect(Double(placed) >= 0.97 * Double(covered))
        #expect(Double(vRight) >= 0.95 * Double(covered))
        #expect(Double(jRight) >= 0.98 * Double(covered))
    }

    @Test("error-free reads holding the junction with >= 30 nt of both flanks: every junction exact, over several seeds")
    func errorFreeExact() {
        var total = 0, exact = 0, singleV = 0, withV = 0
        for seed in [1, 2, 3] as [UInt64] {
            for (locus, kind) in Self.cases {
                var random = SeededRandom(seed: seed, stream: "exact\(locus)\(kind)")
                for i in 0..<150 {
                    var choices = RecombinationModel.Choices()
                    let truth = recombination.rearrange(locus, kind: kind, using: &random, choices: &choices)
                    let reverse = i % 2 == 1
                    let template = reverse ? reverseComplement(truth.sequence) : truth.sequence
                    let read = Array(template.prefix(150))
                    let (start, end) = junctionInRead(truth, readLength: read.count, reverse: reverse)
                    guard start >= 30 && end + 30 <= read.count else { continue }
                    total += 1
                    if case .success(let a) = annotator.annotate(read), a.junctionStart == start, a.junctionEnd == end,
                       Array(a.junction) == truth.junction, a.locus == locus {
                        exact += 1
                        // Gene alignments: the read's bases are the germline's (but for the odd base
                        // where a consensus V primer differs from the allele), the 30 nt before the
                        // junction exactly; the junction's conserved codons are inside them.
                        for (alignment, call) in [(a.vAlignment, a.vCall), (a.jAlignment, a.jCall)] {
                            guard let alignment else { continue }
                            let allele = String(call.split(separator: ",")[0])
                            let gene = (germline.segments.first { $0.allele == allele && $0.anchor != nil } ?? germline.segment(named: allele))!.sequence
                            let readPart = Array(a.sequence[alignment.readStart..<alignment.readEnd])
                            let genePart = Array(gene[alignment.germlineStart..<alignment.germlineEnd])
                            #expect(readPart.count == genePart.count)
                            let mismatches = zip(readPart, genePart).filter { $0 != $1 }.count
                            #expect(mismatches * 20 <= readPart.count, "\(allele): \(mismatches) mismatches in \(readPart.count)")
                        }
                        if let v = a.vAlignment, v.readEnd - v.readStart >= 33 {
                            let allele = String(a.vCall.split(separator: ",")[0])
                            let gene = (germline.segments.first { $0.allele == allele && $0.anchor != nil } ?? germline.segment(named: allele))!.sequence
                            let end = a.junctionStart - v.readStart + v.germlineStart
                            #expect(Array(a.sequence[(a.junctionStart - 30)..<a.junctionStart]) == Array(gene[(end - 30)..<end]), "\(allele)")
                        }
                        if let v = a.vAlignment { #expect(v.readEnd >= a.junctionStart + 3 && v.readStart <= a.junctionStart) }
                        if let j = a.jAlignment { #expect(j.readStart <= a.junctionEnd - 3 && j.readEnd >= a.junctionEnd) }
                        if !a.vCall.isEmpty && kind.isComplete {
                            withV += 1
                            if Set(a.vCall.split(separator: ",").map { $0.split(separator: "*")[0] }).count == 1 { singleV += 1 }
                        }
                    } else {
                        Issue.record("missed \(locus) \(kind) \(truth.junctionString): \(annotator.annotate(read))")
                    }
                }
            }
        }
        print("error-free: \(exact)/\(total) exact; single-gene V calls \(singleV)/\(withV)")
        #expect(total > 2000)
        #expect(exact == total)
        #expect(Double(singleV) >= 0.8 * Double(withV))
    }

    @Test("primer dimers, off-target and unrearranged germline reads are unassigned with a reason")
    func unannotatable() {
        var random = SeededRandom(seed: 5)
        let bases = Array("ACGT".utf8)
        let offTarget = (0..<150).map { _ in bases[random.below(4)] }
        let v = germline.segments.first { $0.allele == "IGHV3-23*01" }!
        let germlineOnly = Array(v.sequence.suffix(150))
        let dimer = Array("GGACACGGCCGTGTATTACTGTGCGAGAGCTGAGGAGACGGTGACCAGGGT".utf8)
        let junk = Array("NNNNNNNNNNNNNNNNNNNNNNNNNNNNNN".utf8)
        guard case .failure(let a) = annotator.annotate(offTarget) else { Issue.record("random read annotated"); return }
        #expect(a == .noGermline)
        guard case .failure(let b) = annotator.annotate(germlineOnly) else { Issue.record("germline V annotated"); return }
        #expect(b == .noThreePrime)
        if case .success = annotator.annotate(dimer) { Issue.record("primer dimer annotated") }
        guard case .failure(let d) = annotator.annotate(junk) else { Issue.record("N read annotated"); return }
        #expect(d == .noGermline)
    }
}

@Suite("Random sequence")
struct RandomSequenceTests {
    @Test("2,000 random reads of 150-450 nt: none annotated (the mutated-V rule included)")
    func randomReadsStayUnassigned() {
        var random = SeededRandom(seed: 11)
        let bases = Array("ACGT".utf8)
        var annotated = 0
        for i in 0..<2000 {
            let read = (0..<(150 + 100 * (i % 4))).map { _ in bases[random.below(4)] }
            if case .success = annotator.annotate(read) { annotated += 1 }
        }
        #expect(annotated == 0)
    }

    @Test("a real J after 8-200 nt of random sequence: no V found for it (the V rescue, short V included)")
    func randomUpstreamOfAJ() throws {
        var random = SeededRandom(seed: 12)
        let bases = Array("ACGT".utf8)
        let js = germline.segments.filter { $0.kind == .J && $0.anchor != nil && [.IGH, .IGK, .TRB, .TRG].contains($0.locus) }
        #expect(js.count > 20)
        var annotated = 0, noV = 0
        for i in 0..<3000 {
            // From 8 nt on: a V cut by the read's start is rescued on as few as 10 bases through its Cys.
            let upstream = (0..<(8 + (i * 37) % 193)).map { _ in bases[random.below(4)] }
            let read = upstream + js[i % js.count].sequence + (0..<20).map { _ in bases[random.below(4)] }
            switch annotator.annotate(read) {
            case .success: annotated += 1
            case .failure(let reason): if reason == .noFivePrime { noV += 1 }
            }
        }
        #expect(annotated == 0)
        // The J was found in (nearly) every read, so the rescue searched each one.
        #expect(noV >= 2900, "\(noV)")
    }

    @Test("60-200 nt of a real V, then 20-120 nt of random sequence: a J found in at most 1 read in 10,000")
    func randomDownstreamOfAV() throws {
        var random = SeededRandom(seed: 13)
        let bases = Array("ACGT".utf8)
        let vs = germline.segments.filter { $0.kind == .V && $0.sequence.count > 250 }
        #expect(vs.count > 300)
        var annotated = 0, noJ = 0
        for i in 0..<20_000 {
            let v = vs[random.below(vs.count)].sequence
            var read = Array(v.suffix(60 + random.below(141))) + (0..<(20 + random.below(101))).map { _ in bases[random.below(4)] }
            if i % 2 == 1 { read = reverseComplement(read) }
            switch annotator.annotate(read) {
            case .success: annotated += 1
            case .failure(let reason): if reason == .noThreePrime { noJ += 1 }
            }
        }
        // Every read went through both J rescues; the short-J one (+1/-2, 16, or 12 within 10 nt of
        // the read's end) is expected to find a chance J in about 1 read in 20,000.
        #expect(noJ >= 19_500, "\(noJ)")
        #expect(annotated <= 2, "\(annotated)")
    }

    @Test("a TRA read of a TRAV/DV gene ending 6 nt past its TRAJ's Phe codon: not called TRD")
    func traReadEndingNearItsJIsNotTRD() throws {
        // TRAV36/DV7 (a V of both loci) joined to TRAJ2 (…AACAATTGATAAACTCACATTTGGGAAA; TRA is no panel
        // locus and its J genes are not in the germline). TRDJ1 shares AAACTCA-TTTGG round the Phe
        // codon: the short-J rescue at 12 called it TRD, TRD's bar of 13 does not.
        let read = Array("AAGTGGAATTGAAAAGAAGTCAGGAAGACTAAGTAGCATATTAGATAAGAAAGAACTTTTCAGCATCCTGAACATCACAGCCACCCAGACCGGAGACTCGGCCGTCTACCTCTGTGCATATCAATACTGGAGGAACAATTGATAAACTCACATTTGGGAAA".utf8)
        for strand in [read, reverseComplement(read)] {
            if case .success(let a) = annotator.annotate(strand) { Issue.record("called \(a.locus) \(a.vCall) \(a.jCall)") }
        }
    }

    @Test("a read ending 6 nt past the Trp codon, its J mutated next to it: J found")
    func shortMutatedJRescued() throws {
        // SRR765688.25497 (AIRR Community example, IGHV4, IGHJ4): two mutations in the codon before
        // the Trp, the read ending 6 nt after it.
        let read = Array("AAGAACCAGTTCTCCCTGAACCTGAGGTCTGTGACCGCCGCAGACACGGCTGTATATTACTGTGCGAGACAATGGGATGATACTGGGAACTACTACGCCCGGGCTCTACTTTGACTCTTGGGGCCAGGGAA".utf8)
        guard case .success(let a) = annotator.annotate(read) else { Issue.record("not annotated"); return }
        #expect(a.locus == .IGH && a.jCall.contains("IGHJ4*"), "\(a.vCall) \(a.jCall)")
        #expect(String(decoding: a.junction, as: UTF8.self).hasSuffix("GGCTCTACTTTGACTCTTGG"))
    }

    @Test("a hypermutated V too short for two 12-mers: found upstream of the J")
    func shortMutatedVRescued() throws {
        // SRR765688.31319 (AIRR Community example, IGHV7-4-1, IGHJ4): 30 nt of V before the Cys with 4
        // mutations, none in a 12-mer shared with the germline but one.
        let read = Array("CTAAAGTCTGACGACACTGCCGTCTATTACTGTGTGAGACTGGACGGGACCGACTCGGACTACTGGGGCCAGGGAACCCTGGTCACCGTCTCCTCA".utf8)
        guard case .success(let a) = annotator.annotate(read) else { Issue.record("not annotated"); return }
        #expect(a.locus == .IGH && a.vCall.contains("IGHV7-4-1*") && a.jCall.hasPrefix("IGHJ4"), "\(a.vCall) \(a.jCall)")
        #expect(String(decoding: a.junction, as: UTF8.self) == "TGTGTGAGACTGGACGGGACCGACTCGGACTACTGG")
        // Its reverse complement the same.
        guard case .success(let b) = annotator.annotate(reverseComplement(read)) else { Issue.record("reverse not annotated"); return }
        #expect(b.vCall == a.vCall && b.junction == a.junction)
    }
}

@Suite("Germline synonyms")
struct GermlineSynonymTests {
    @Test("the 2nd-CYS of ungapped V alleles: IGHV4-4*01's Y-C-C-A-R takes its siblings' Cys; IGLV2-11's Y-Y-C-C keeps the first")
    func ungappedCysteines() throws {
        func anchor(_ allele: String) throws -> (anchor: Int, fromEnd: Int, codon: String) {
            let segment = try #require(germline.segments.first { $0.allele == allele })
            let anchor = try #require(segment.anchor)
            return (anchor, segment.sequence.count - anchor, String(decoding: segment.sequence[anchor..<(anchor + 3)], as: UTF8.self))
        }
        let mutated = try anchor("IGHV4-4*01"), sibling = try anchor("IGHV4-4*02")
        #expect(mutated.fromEnd == sibling.fromEnd && mutated.fromEnd == 11, "\(mutated) \(sibling)")
        #expect(mutated.codon == "TGT")
        let lambda = try anchor("IGLV2-11*01")
        let sequence = try #require(germline.segments.first { $0.allele == "IGLV2-11*01" }).sequence
        #expect(String(decoding: sequence[(lambda.anchor - 6)..<(lambda.anchor + 6)], as: UTF8.self) == "TATTACTGCTGC")
        // A read of IGHV4-4*01 gets the junction IMGT gives: from that TGT.
        let read = Array(try #require(germline.segments.first { $0.allele == "IGHV4-4*01" }).sequence.suffix(120))
            + Array("CCCGGGTACGGTAGC".utf8) + Array(try #require(germline.segments.first { $0.allele == "IGHJ4*02" }).sequence)
        guard case .success(let a) = annotator.annotate(read) else { Issue.record("not annotated"); return }
        let junction = String(decoding: a.sequence[a.junctionStart..<a.junctionEnd], as: UTF8.self)
        #expect(junction.hasPrefix("TGTGCGAGAGA"), "\(junction)")
        #expect(a.vCall.split(separator: ",").contains("IGHV4-4*01"), "\(a.vCall)")
    }

    @Test("seeds of a well-seeded V and J of different loci: left undecided, never placed in either locus")
    func lociLeftUndecided() throws {
        // A simulated IGK read (IGKV1, IGKJ4 with two sequencing errors after its Phe codon that
        // make its 12-mers IGLJ2/3's): an IGL V rescue upstream of that J would score 20 on the
        // IGK framework, so nothing is placed.
        let read = Array(("TCCCATCAAGGTTCAGTGGCAGTGGATCTGGGACAGATTTCACTCTCACCATCAGTTGCCTGCAGTCTGAAGATTTTGCAACTTATTACTGTCAACAG"
                          + "TATTATAGTTTCCCTCCGGAGTCACTTTCGGCGGAGGGACCAAGCTTGAGAT").utf8)
        for strand in [read, reverseComplement(read)] {
            guard case .failure(let reason) = annotator.annotate(strand) else { Issue.record("placed"); continue }
            #expect(reason == .incompatibleSegments)
        }
    }

    @Test("V pseudogenes and ORFs (TRGV6, TRGV7, TRBV7-5, TRBV5-2 ungapped; TRBV17, TRBV26, IGKV2-29*01 without a Cys): their junctions and calls")
    func ungappedPseudogenesTakeTheirRelativesCys() throws {
        // Their reading frame from codon 1 found no Cys in TRGV6/TRGV7 (no V element: a TRGV6 read
        // was called TRGV2, a TRGV7 read not annotated), put TRBV7-5's two codons early and TRBV5-2's
        // out of frame.
        for (allele, motif) in [("TRGV6*01", "TATTACTGTGCCACC"), ("TRGV7*01", "TATTACTGTGCCACC"), ("TRBV7-5*01", "TATCTCTGTGCCAGA"),
                                ("TRBV5-2*01", "TATCTCTGTGCCAGC"), ("TRBV8-2*01", "TACCACTGTGGCAGC"),
                                // OGRDB's IGKV2-29*01: a frameshift leaves no Cys in frame, and its codon 104 reads TGA.
                                ("IGKV2-29*01", "TATTACTGAATGCAA")] {
            let v = try #require(germline.segments.first { $0.allele == allele })
            let cys = try #require(v.anchor, "\(allele): no Cys")
            #expect(Array(v.sequence[(cys - 6)..<(cys + 9)]) == Array(motif.utf8), "\(allele)")
        }
        // Reads: the V's last 100 nt up to `keep` bases past its Cys, N bases, and the J less its
        // first `jTrim` bases.
        let trg = (keep: 6, n: "GGGAC", jTrim: 6), trb = (keep: 9, n: "CCCGGGAC", jTrim: 5)
        let cases: [(v: String, j: String, layout: (keep: Int, n: String, jTrim: Int), junction: String)] = [
            ("TRGV7*01", "TRGJ1*01", trg, "TGTGCCGGGACTTATAAGAAACTCTTT"), ("TRGV6*01", "TRGJ1*01", trg, "TGTGCCGGGACTTATAAGAAACTCTTT"),
            ("TRBV7-5*01", "TRBJ2-7*01", trb, "TGTGCCAGACCCGGGACACGAGCAGTACTTC"),
            // ORF/pseudogene alleles whose codon 104 is not a Cys (TAC, TAT): the junction starts
            // there all the same (IMGT's codon 104), and the V call is theirs (was TRBV7-3, TRBV26/OR9-2).
            ("TRBV17*01", "TRBJ2-7*01", trb, "TACAGTAGCCCCGGGACACGAGCAGTACTTC"), ("TRBV26*01", "TRBJ2-7*01", trb, "TATGCCAGCCCCGGGACACGAGCAGTACTTC"),
            // Was no V element: called IGKV2-29*02 (its sibling, one base apart at the Cys).
            ("IGKV2-29*01", "IGKJ1*01", (keep: 24, n: "CCTCT", jTrim: 3), "TGAATGCAAGGTATACACCTTCCTCCTCTGACGTTC"),
        ]
        for (allele, jAllele, layout, junction) in cases {
            let v = try #require(germline.segments.first { $0.allele == allele })
            let j = try #require(germline.segments.first { $0.allele == jAllele && $0.anchor != nil })
            let cys = v.anchor!
            let read = Array(v.sequence[(cys - 100)..<(cys + layout.keep)]) + Array(layout.n.utf8) + Array(j.sequence.dropFirst(layout.jTrim))
            for strand in [read, reverseComplement(read)] {
                guard case .success(let a) = annotator.annotate(strand) else { Issue.record("\(allele): not annotated"); continue }
                #expect(a.vCall.split(separator: ",").contains(Substring(allele)), "\(allele): \(a.vCall)")
                #expect(String(decoding: a.junction, as: UTF8.self) == junction, "\(allele)")
            }
        }
    }

    @Test("a codon deleted from FR3 with mutations after it: the Cys is the read's, not the 5' diagonal's")
    func cysteineAcrossAnFR3Deletion() throws {
        // IGHV4-34*01 less a codon 45 nt before its Cys, a mutation every 10 nt after the deletion
        // (no 12-mer of the 3' part is germline, so every hit lies 5' of it), a junction and IGHJ4.
        // On the 5' part's diagonal the Cys falls 3 nt late (the junction began at GCG; IMGT
        // HighV-QUEST placed a real IGHV4-34 clone so).
        let v = try #require(germline.segments.first { $0.allele == "IGHV4-34*01" }).sequence
        let j = try #require(germline.segments.first { $0.allele == "IGHJ4*02" && $0.anchor != nil }).sequence
        let cys = try #require(v.indices.last { v[$0...].starts(with: Array("TGTGCGAGA".utf8)) })
        var mutated = v
        for distance in [40, 30, 20, 10] { mutated[cys - distance] = mutated[cys - distance] == UInt8(ascii: "A") ? UInt8(ascii: "C") : UInt8(ascii: "A") }
        mutated.removeSubrange((cys - 45)..<(cys - 42))
        let read = Array(mutated[..<(cys + 6)]) + Array("GGGAGCTACCC".utf8) + j
        for strand in [read, reverseComplement(read)] {
            guard case .success(let a) = annotator.annotate(strand) else { Issue.record("not annotated"); continue }
            #expect(a.vCall.hasPrefix("IGHV4-34*01") && a.jCall.hasPrefix("IGHJ4"), "\(a.vCall) \(a.jCall)")
            #expect(String(decoding: a.junction, as: UTF8.self) == "TGTGCGAGAGGGAGCTACCCACTACTTTGACTACTGG")
        }
    }

    @Test("J candidates tied across two loci: the V's locus is kept, not a locus disagreement")
    func tiesAcrossLociKeepTheVsLocus() throws {
        // A real IGL rearrangement (scirpy's issue_625 contig CTGACTAAAC..._0, IgBLAST: IGLV3-21*02,
        // IGLJ2*01) cut to 15 nt each side of its junction, as the reverse strand. It ends 18 nt past
        // the Phe codon, where IGKJ4 and IGLJ2/3 are the same (TTCGGCGGAGGGACCAAG): the J tie list
        // held both loci, and its first (IGKJ4) was set against the IGL V.
        let read = Array("CTTGGTCCCTCCGCCGAATATAACAGGATCAGTATCAGTATGCCACAATTGACAGTAATAGTCGGCCTC".utf8)
        for strand in [read, reverseComplement(read)] {
            guard case .success(let a) = annotator.annotate(strand) else { Issue.record("not annotated"); continue }
            #expect(a.locus == .IGL)
            #expect(a.vCall.hasPrefix("IGLV3-21*02"), "\(a.vCall)")
            #expect(a.jCall.split(separator: ",").allSatisfy { $0.hasPrefix("IGLJ") } && a.jCall.contains("IGLJ2*01"), "\(a.jCall)")
            #expect(String(decoding: a.junction, as: UTF8.self) == "TGTCAATTGTGGCATACTGATACTGATCCTGTTATATTC")
        }
    }

    @Test("IMGT's name joins AIRR-C's only for the bundled sequence, and resolves back to it")
    func imgtNameOnlyForTheBundledSequence() throws {
        let nl1 = try #require(germline.segments.first { $0.allele == "IGHV4-NL1*01" })
        #expect(GermlineSynonyms.imgtName(of: nl1) == "IGHV4-59*08")
        #expect(germline.segment(named: "IGHV4-59*08")?.sequence == nl1.sequence)
        #expect(germline.segment(named: "IGHV4-59*99") == nil)
        // The same name on another sequence (a user's germline folder): left alone.
        var other = nl1.sequence
        other[100] = other[100] == UInt8(ascii: "A") ? UInt8(ascii: "C") : UInt8(ascii: "A")
        let altered = GermlineSegment(allele: nl1.allele, locus: nl1.locus, kind: nl1.kind, sequence: other, upstream: [], downstream: [],
                                      functionality: nl1.functionality, anchor: nl1.anchor)
        #expect(GermlineSynonyms.imgtName(of: altered) == nil)
        // A read of the allele's last 200 nt and a junction is called by both names.
        let j = try #require(germline.segments.first { $0.allele == "IGHJ4*02" && $0.anchor != nil })
        let read = Array(nl1.sequence.suffix(200)) + Array("GGTCCCTACGGG".utf8) + j.sequence
        guard case .success(let a) = annotator.annotate(read) else { Issue.record("not annotated"); return }
        #expect(a.vCall == "IGHV4-59*08,IGHV4-NL1*01")
    }
}

/// Longest common substring by dynamic programming: the slow, obvious reference for D calls.
private func longestCommonSubstring(_ a: [UInt8], _ b: [UInt8]) -> Int {
    var best = 0
    var previous = [Int](repeating: 0, count: b.count + 1)
    for i in a.indices {
        var current = [Int](repeating: 0, count: b.count + 1)
        for j in b.indices where a[i] == b[j] {
            current[j + 1] = previous[j] + 1
            best = max(best, current[j + 1])
        }
        previous = current
    }
    return best
}

@Test("D calls (6-mer seeds, then extension) equal the longest-common-substring rule on simulated junctions")
func dCallsMatchLongestCommonSubstring() {
    var random = SeededRandom(seed: 7, stream: "dcall")
    let dGenes = germline.segments.filter { $0.kind == .D && $0.upstream.isEmpty && $0.downstream.isEmpty }
    var called = 0
    for locus in [Locus.IGH, .TRB, .TRD] {
        let genes = dGenes.filter { $0.locus == locus }
        for _ in 0..<200 {
            var choices = RecombinationModel.Choices()
            let truth = recombination.rearrange(locus, kind: .VDJ, using: &random, choices: &choices)
            let junction = Array(truth.sequence[truth.junctionStart..<truth.junctionEnd])
            let lengths = genes.map { longestCommonSubstring($0.sequence, junction) }
            let best = lengths.max() ?? 0
            let expected = best >= 6 ? genes.indices.filter { lengths[$0] == best }.map { genes[$0].allele }.joined(separator: ",") : ""
            #expect(annotator.dCall(locus, junction) == expected)
            if !expected.isEmpty { called += 1 }
        }
    }
    #expect(called > 150)
}

@Suite("Scoring kernels")
struct ScoringKernelTests {
    @Test("seeding's second pass from the hits recorded by the first equals the pass that looks them up again, on every locus and kind")
    func recordedHitsEqualLookedUp() {
        let sequencing = SequencingModel()
        let table = sequencing.qualityTable()
        var bases: [UInt8] = [], qualities: [UInt8] = []
        var recorded = AnnotationScratch(annotator), lookedUp = AnnotationScratch(annotator)
        var compared = 0, annotated = 0, differing: [String] = []
        for (locus, kind) in AnnotationTests.cases {
            var random = SeededRandom(seed: 7, stream: "seeding \(locus)\(kind)")
            for i in 0..<200 {
                var choices = RecombinationModel.Choices()
                let truth = recombination.rearrange(locus, kind: kind, using: &random, choices: &choices)
                let template = i % 2 == 1 ? reverseComplement(truth.sequence) : truth.sequence
                sequencing.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
                // No room for a single hit: the first pass records none, the second looks them up.
                lookedUp.hitSlots = [0]
                lookedUp.hitValues = [0]
                let one = bases.withUnsafeBufferPointer { annotator.annotate($0, scratch: &recorded) }
                let other = bases.withUnsafeBufferPointer { annotator.annotate($0, scratch: &lookedUp) }
                #expect(lookedUp.hitSlots.count > 1)
                compared += 1
                if case .success = one { annotated += 1 }
                if one != other { differing.append("\(locus) \(kind) read \(i): \(one) vs \(other)") }
            }
        }
        #expect(compared == 200 * AnnotationTests.cases.count)
        #expect(annotated > compared * 9 / 10)
        #expect(differing.isEmpty, "\(differing.prefix(3))")
    }

    /// A random element (a base in 50 an N when `withN`) and a random read with the element planted
    /// at `at` (possibly hanging over either end), each planted base kept when `keep` says so.
    static func planted(_ random: inout SeededRandom, elementLength: Int, readLength: Int, at: Int, withN: Bool = false,
                        keep: (inout SeededRandom) -> Bool) -> (element: [UInt8], read: [UInt8]) {
        let letters = Array("ACGTN".utf8)
        let element = (0..<elementLength).map { _ in letters[random.below(withN && random.below(50) == 0 ? 5 : 4)] }
        var read = (0..<readLength).map { _ in letters[random.below(4)] }
        for i in 0..<elementLength where at + i >= 0 && at + i < readLength && keep(&random) { read[at + i] = element[i] }
        return (element, read)
    }

    /// The base-by-base walks that the mismatch-at-a-time kernels replaced: the reference.
    static func referenceExtension(_ read: [UInt8], _ element: [UInt8], coreFrom: Int, coreTo: Int, diagonal: Int, side: Int, minimum: Int) -> Int {
        let first = max(0, -diagonal), last = min(read.count - diagonal, element.count)
        guard last > first else { return 0 }
        let from = min(max(coreFrom, first), last), to = max(min(coreTo, last), from)
        func same(_ i: Int) -> Bool { read[i + diagonal] == element[i] }
        var score = 0
        for i in from..<to { score += same(i) ? 1 : -4 }
        var run = 0, best = 0
        for i in stride(from: from - 1, through: first, by: -1) { run += same(i) ? 1 : -4; best = max(best, run) }
        score += side < 0 && best <= minimum ? 0 : best
        run = 0; best = 0
        for i in to..<last { run += same(i) ? 1 : -4; best = max(best, run) }
        return score + (side > 0 && best <= minimum ? 0 : best)
    }

    @Test("the mismatch-at-a-time kernels (extension score, runs, matches) equal base-by-base walks, at block edges of 16 and 64 bases and past them")
    func mismatchKernelsEqualWalks() {
        var random = SeededRandom(seed: 29, stream: "mismatch kernels")
        var compared = 0, differing: [String] = []
        for round in 0..<20_000 {
            // Lengths around the 16- and 64-base blocks; planted copies with few, many or no differences.
            let elementLength = 1 + random.below(round % 3 == 0 ? 20 : 330), readLength = 1 + random.below(round % 4 == 0 ? 40 : 300)
            let at = random.below(readLength + elementLength) - elementLength
            let keep = [1.0, 0.97, 0.8, 0.5][random.below(4)]
            let (element, read) = Self.planted(&random, elementLength: elementLength, readLength: readLength, at: at, withN: true) { $0.uniform() < keep }
            let diagonal = random.below(5) == 0 ? -elementLength - 5 + random.below(readLength + elementLength + 10) : at
            let coreFrom = random.below(elementLength + 1) - (random.below(8) == 0 ? 5 : 0)
            let coreTo = coreFrom + random.below(elementLength + 6)
            let side = random.bernoulli(0.5) ? -1 : 1, minimum = random.below(8)
            let expected = Self.referenceExtension(read, element, coreFrom: coreFrom, coreTo: coreTo, diagonal: diagonal, side: side, minimum: minimum)
            read.withUnsafeBufferPointer { r in
                element.withUnsafeBufferPointer { e in
                    let got = mrd_extension_score(r.baseAddress, r.count, e.baseAddress, e.count, coreFrom, coreTo, diagonal, side, minimum)
                    if got != expected { differing.append("extension round \(round): \(got) vs \(expected)") }
                    // A run from the read's start, +2/-3, and the matches of the common prefix.
                    let length = min(r.count, e.count)
                    var run = 0, best = 0, matches = 0
                    for i in 0..<length { run += r[i] == e[i] ? 2 : -3; best = max(best, run); matches += r[i] == e[i] ? 1 : 0 }
                    let forward = mrd_forward_run_score(r.baseAddress, e.baseAddress, length, 2, -3)
                    if forward != best { differing.append("forward run round \(round): \(forward) vs \(best)") }
                    let counted = mrd_count_matches(r.baseAddress, e.baseAddress, length)
                    if counted != matches { differing.append("matches round \(round): \(counted) vs \(matches)") }
                }
            }
            compared += 1
        }
        #expect(compared == 20_000)
        #expect(differing.isEmpty, "\(differing.prefix(5))")
    }

    /// mrd_anchored_run_score walked base by base: the gate, the run leftwards from the anchor and the one rightwards.
    @Test("the anchored run score equals its base-by-base walk")
    func anchoredRunEqualsWalk() {
        var random = SeededRandom(seed: 31, stream: "anchored runs")
        var differing: [String] = [], nonzero = 0
        for round in 0..<20_000 {
            let elementLength = 8 + random.below(70), readLength = 10 + random.below(200)
            let at = random.below(readLength)
            let (element, read) = Self.planted(&random, elementLength: elementLength, readLength: readLength, at: at) { $0.below(12) > 0 }
            let d = random.below(4) == 0 ? random.below(readLength) - elementLength / 2 : at
            let anchorEnd = random.below(elementLength + 1), span = 1 + random.below(40), gateLength = 1 + random.below(6)
            let gateMinimum = random.below(gateLength + 1), rightMinimum = random.below(10)
            var expected = 0
            if !(anchorEnd - 1 + d >= readLength || anchorEnd - gateLength < 0 || anchorEnd - gateLength + d < 0) {
                var gate = 0
                for i in (anchorEnd - gateLength)..<anchorEnd { gate += read[i + d] == element[i] ? 1 : -2 }
                if gate >= gateMinimum {
                    let lowest = max(anchorEnd - span, 0, -d)
                    var run = 0, left = 0
                    for i in stride(from: anchorEnd - 1, through: lowest, by: -1) { run += read[i + d] == element[i] ? 1 : -2; left = max(left, run) }
                    var right = 0
                    run = 0
                    for i in anchorEnd..<max(anchorEnd, min(elementLength, readLength - d)) { run += read[i + d] == element[i] ? 1 : -2; right = max(right, run) }
                    expected = left + (right > rightMinimum ? right : 0)
                }
            }
            let got = read.withUnsafeBufferPointer { r in
                element.withUnsafeBufferPointer { e in
                    mrd_anchored_run_score(r.baseAddress, r.count, e.baseAddress, e.count, anchorEnd, d, span, gateLength, gateMinimum,
                                           rightMinimum, 1, -2)
                }
            }
            if got != expected { differing.append("round \(round): \(got) vs \(expected)") }
            if expected > 0 { nonzero += 1 }
        }
        #expect(nonzero > 5_000)
        #expect(differing.isEmpty, "\(differing.prefix(5))")
    }

    @Test("the J rescue's many-diagonal scores equal the one-diagonal extension score at every diagonal, cores inside and outside the read")
    func manyDiagonalScores() {
        var random = SeededRandom(seed: 23, stream: "kernels")
        var compared = 0, differing: [String] = []
        for _ in 0..<3_000 {
            let elementLength = 10 + random.below(90), readLength = 1 + random.below(250)
            // The element planted somewhere in the read with a tenth of its bases changed.
            let at = random.below(readLength)
            let (element, read) = Self.planted(&random, elementLength: elementLength, readLength: readLength, at: at) { $0.below(10) > 0 }
            let coreFrom = random.below(elementLength), coreTo = coreFrom + random.below(elementLength - coreFrom + 1)
            let from = -elementLength - 10 + random.below(readLength + 20), to = from + random.below(200)
            let side = random.bernoulli(0.5) ? -1 : 1, minimum = random.below(8)
            var scores = [Int32](repeating: 0, count: to - from + 1)
            read.withUnsafeBufferPointer { r in
                element.withUnsafeBufferPointer { e in
                    scores.withUnsafeMutableBufferPointer { s in
                        mrd_extension_scores(r.baseAddress, r.count, e.baseAddress, e.count, coreFrom, coreTo, from, to, side, minimum, s.baseAddress)
                    }
                    for d in from...to {
                        let one = mrd_extension_score(r.baseAddress, r.count, e.baseAddress, e.count, coreFrom, coreTo, d, side, minimum)
                        if Int(scores[d - from]) != one { differing.append("diagonal \(d): \(scores[d - from]) vs \(one)") }
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 100_000)
        #expect(differing.isEmpty, "\(differing.prefix(5))")
    }
}

@Suite("D-J calls need the D's upstream flank")
struct DFlankTests {
    /// J-side reads of V-D-J rearrangements whose V lies beyond the read: the read starts a few
    /// bases before a 5'-trimmed D (V end and N bases there, no D flank). Before, these were called
    /// D-J (a 99-nt IGH junction on 2x150 FR2 pairs became a "DJ" index clone and lost its VH
    /// replacement reads). D-J reads holding the flank stay D-J.
    @Test("reads starting just before a trimmed D: not D-J; reads holding 20+ nt of the D's flank: D-J")
    func flankDecidesDJ() throws {
        var random = SeededRandom(seed: 77, stream: "dflank")
        let ds = germline.segments(.IGH, .D).filter { !$0.upstream.isEmpty && $0.sequence.count >= 23 }
        let js = germline.segments(.IGH, .J).filter { $0.anchor != nil && $0.downstream.count >= 20 }
        try #require(ds.count >= 10 && !js.isEmpty)
        func randomBases(_ n: Int) -> [UInt8] { (0..<n).map { _ in Array("ACGT".utf8)[random.below(4)] } }
        var falseDJ = 0, trueDJ = 0, cases = 0
        for i in 0..<200 {
            let d = ds[i % ds.count], j = js[i % js.count]
            let dTrimmed = Array(d.sequence.dropFirst(1 + random.below(3)).dropLast(random.below(3)))
            let jPart = Array(j.sequence.dropFirst(random.below(4))) + j.downstream.prefix(20)
            let middle = dTrimmed + randomBases(8 + random.below(20)) + jPart
            // The V-D-J read: 2-7 bases of V end / N before the D, nothing of the D's flank.
            let vdj = randomBases(2 + random.below(6)) + middle
            // The D-J read: 20-40 nt of the D's germline flank, then the (untrimmed) D.
            let flank = Array(d.upstream.suffix(20 + random.below(21)))
            let dj = flank + d.sequence + randomBases(8 + random.below(20)) + jPart
            for (read, isDJ) in [(vdj, false), (dj, true)] {
                let bases = i % 2 == 0 ? read : reverseComplement(read)
                if case .success(let a) = annotator.annotate(bases), a.kind == .DJ {
                    if isDJ { trueDJ += 1 } else { falseDJ += 1 }
                }
            }
            cases += 1
        }
        #expect(falseDJ == 0, "\(falseDJ) of \(cases) V-D-J reads without a D flank called D-J")
        #expect(trueDJ >= cases * 95 / 100, "\(trueDJ) of \(cases) D-J reads called D-J")
    }
}
