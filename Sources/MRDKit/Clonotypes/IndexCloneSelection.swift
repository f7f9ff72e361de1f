import Foundation

/// Which clonotypes of a diagnostic sample become index clones, and why the others do not.
struct IndexCloneSelection {
    let options: BaselineOptions

    /// Edit distances beyond this are not searched for the nearest clonotype.
    static let nearestSearchLimit = 6
    /// Up to this many clones searched, each reads every clonotype (a default diagnosis: a few
    /// clones against 70,000 clonotypes, 6 ms); more (`--min-fraction 0`), the length index.
    static let fewSearched = 16

    /// The clonotypes of each locus by junction length, each list in clone order: a junction more
    /// than `nearestSearchLimit` bases longer or shorter is that many edits away at least, so the
    /// nearest-clonotype search reads only 13 lengths' lists instead of every clonotype (with
    /// `--min-fraction 0` every clonotype is searched for: quadratic).
    struct JunctionsByLength: Sendable {
        var lists: [Locus: [Int: [(index: Int, junction: [UInt8])]]] = [:]

        init(_ clonotypes: [Clonotype]) {
            for (i, c) in clonotypes.enumerated() { lists[c.locus, default: [:]][c.junction.count, default: []].append((i, c.junction)) }
        }
    }

    /// The clonotype of the same locus whose junction is fewest edits from clonotype `i`'s (first in
    /// clone order on ties), if any lies within `nearestSearchLimit`: every clonotype read in clone
    /// order (for a few clones searched, cheaper than building `JunctionsByLength`).
    func nearestClonotype(to i: Int, in clonotypes: [Clonotype]) -> (Int, Int)? {
        var best: (Int, Int)?
        for j in clonotypes.indices where j != i && clonotypes[j].locus == clonotypes[i].locus {
            let limit = min(Self.nearestSearchLimit, (best?.1 ?? Self.nearestSearchLimit + 1) - 1)
            guard limit >= 0 else { break }
            let distance = boundedEditDistance(clonotypes[i].junction, clonotypes[j].junction, limit: limit)
            if distance <= limit { best = (j, distance) }
        }
        return best
    }

    /// The same answer through `byLength`.
    func nearestClonotype(to i: Int, junction: [UInt8], locus: Locus, byLength: JunctionsByLength) -> (Int, Int)? {
        let length = junction.count
        guard let lists = byLength.lists[locus] else { return nil }
        var best: (Int, Int)?
        // The equal length first (a distance 0 there ends the search), then outward: the least
        // distance wins, and among equal ones the first in clone order.
        for offset in [0] + (1...Self.nearestSearchLimit).flatMap({ [-$0, $0] }) {
            if let best, best.1 == 0 || abs(offset) > best.1 { break }
            guard let list = lists[length + offset] else { continue }
            for (j, other) in list where j != i {
                let limit = min(Self.nearestSearchLimit, best?.1 ?? Self.nearestSearchLimit)
                let distance = boundedEditDistance(junction, other, limit: limit)
                guard distance <= limit else { continue }
                if let current = best, distance > current.1 || (distance == current.1 && j > current.0) { continue }
                best = (j, distance)
                if distance == 0 { break }
            }
        }
        return best
    }

    static func isB(_ locus: Locus) -> Bool { locus.rawValue.hasPrefix("IG") }

    /// Why clone `c` is not kept as too small beside the leukemia's largest clone, if it is not.
    ///
    /// The leading clone is the one with the largest share of its own locus reads (a share needs no
    /// calibration, so it is comparable across loci), or of the two lineages' largest calibrated
    /// clones the one with more templates: its lineage is the leukemia's. When a clone and the
    /// leading lineage's largest clone are both calibrated by spike-ins of their own loci, templates
    /// count cells (corrected for the reads that cover the junction), and every leukemic cell
    /// carries each marker: any clone, of either lineage, must reach `minDominance` of those
    /// templates (a normal B-cell clone at 5.5% of IGH reads beside a B-ALL whose markers are IGK and
    /// TRG held 10% of the IGK marker's templates, and was tracked as the leukemia). Otherwise
    /// templates are not comparable (another locus's spike-ins, or reads, measure another PCR) and
    /// only a clone of the other lineage is held to the rule, by `minDominance` of the leading
    /// clone's locus fraction: within the leading lineage, long junctions that short reads rarely
    /// cover look small by their reads alone.
    func dominanceReason(_ c: Clonotype, leading: Clonotype, calibratedReference reference: Clonotype?) -> String? {
        if c.templatesCalibrated, let reference, reference.templates > 0 {
            guard c.templates < options.minDominance * reference.templates else { return nil }
            return String(format: "%@ clone at %.0f%% of the %@ clone %@'s templates (< %.0f%%, both calibrated by their own locus's spike-ins): a normal expanded clone or a minor subclone",
                          c.locus.rawValue, 100 * c.templates / reference.templates, reference.locus.rawValue, reference.cloneID,
                          100 * options.minDominance)
        }
        guard Self.isB(c.locus) != Self.isB(leading.locus) else { return nil }
        guard c.fraction < options.minDominance * leading.fraction else { return nil }
        return String(format: "%@ clone at %.1f%% of its locus reads, under %.0f%% of the leading %@ clone %@'s %.1f%% (templates of the two loci are not comparable without spike-ins of each): a normal expanded clone or a minor subclone",
                      c.locus.rawValue, 100 * c.fraction, 100 * options.minDominance, leading.locus.rawValue, leading.cloneID,
                      100 * leading.fraction)
    }

    /// The junction checks an index clone from anywhere (a baseline, an AIRR TSV, a FASTA) must pass.
    func tooShort(_ junction: [UInt8]) -> String? {
        junction.count < options.minJunctionLength ? "junction too short (\(junction.count) nt < \(options.minJunctionLength))" : nil
    }

    func ambiguous(_ junction: [UInt8]) -> String? {
        junction.contains(where: { !"ACGT".utf8.contains($0) }) ? "junction has ambiguous bases" : nil
    }

    func select(_ clonotypes: inout [Clonotype]) {
        // Indices, not copies: with `--min-fraction 0` every clonotype is a candidate, and each
        // clone of the other lineage once filtered a copy of the leading lineage (quadratic: a
        // 1M-read noisy diagnosis ran for over ten minutes here).
        let candidates = clonotypes.indices.filter { clonotypes[$0].fraction >= options.minFraction && clonotypes[$0].count >= options.minReads }
        // Ties: IG first, then clone order.
        func largestShare(_ pool: [Int]) -> Int? {
            pool.max { a, b in
                if clonotypes[a].fraction != clonotypes[b].fraction { return clonotypes[a].fraction < clonotypes[b].fraction }
                if Self.isB(clonotypes[a].locus) != Self.isB(clonotypes[b].locus) { return Self.isB(clonotypes[b].locus) }
                return a > b
            }
        }
        func mostTemplates(_ b: Bool) -> Int? {
            candidates.filter { Self.isB(clonotypes[$0].locus) == b && clonotypes[$0].templatesCalibrated }
                .max { clonotypes[$0].templates < clonotypes[$1].templates }
        }
        var leading = largestShare(candidates).map { clonotypes[$0] }
        // Both lineages' largest clones calibrated by spike-ins of their own loci: their templates
        // count cells, and the lineage with more is the leukemia's. The largest share alone can
        // pick the other lineage when a cross-lineage marker (TRG in a B-ALL, half of them) takes
        // a larger share of its locus than the main IG marker of its own, and a normal T-cell clone
        // at 8% of TRB reads (15% of the IGH marker's templates) then passed unchecked.
        if let lead = leading, let own = mostTemplates(Self.isB(lead.locus)), let other = mostTemplates(!Self.isB(lead.locus)),
           clonotypes[other].templates > clonotypes[own].templates {
            leading = largestShare(candidates.filter { Self.isB(clonotypes[$0].locus) != Self.isB(lead.locus) }).map { clonotypes[$0] }
        }
        // The leading lineage's calibrated clone with most templates (the first of equals), which a
        // calibrated clone of the other lineage is measured against.
        let calibratedReference = leading.flatMap { mostTemplates(Self.isB($0.locus)) }.map { clonotypes[$0] }
        // The checks of a clone alone first; then the nearest clonotype of each clone that passed
        // them, in parallel (with `--min-fraction 0` that is every clonotype); then the verdicts.
        var searched: [Int] = []
        for i in clonotypes.indices {
            // Tested before the copy: a clonotype copied is a dozen arrays retained and released,
            // for each of a noisy diagnosis's 10^5 clonotypes.
            guard clonotypes[i].fraction >= options.minFraction else { continue }
            let c = clonotypes[i]
            if let leading, let reason = dominanceReason(c, leading: leading, calibratedReference: calibratedReference) {
                clonotypes[i].notTrackableReason = reason
                continue
            }
            if c.count < options.minReads {
                clonotypes[i].notTrackableReason = "too few reads (\(c.count) < \(options.minReads))"
                continue
            }
            if let reason = tooShort(c.junction) {
                clonotypes[i].notTrackableReason = reason
                continue
            }
            // One junction side (VJ, DJ, Kde, VD, DD) and few added bases: normal cells make the same
            // junction often enough to be found in follow-ups. VDJ junctions (two N regions and a D
            // trimmed on both sides) stay specific even when nearly germline.
            if c.kind != .VDJ && c.untemplated < options.minUntemplated {
                clonotypes[i].notTrackableReason = "junction nearly germline (\(c.untemplated) untemplated nt < \(options.minUntemplated)): normal cells share such junctions"
                continue
            }
            if let reason = ambiguous(c.junction) {
                clonotypes[i].notTrackableReason = reason
                continue
            }
            searched.append(i)
        }
        let nearest: [(Int, Int)?]
        if searched.count <= Self.fewSearched {
            nearest = searched.map { nearestClonotype(to: $0, in: clonotypes) }
        } else {
            let byLength = JunctionsByLength(clonotypes)
            let queries = searched.map { (index: $0, junction: clonotypes[$0].junction, locus: clonotypes[$0].locus) }
            nearest = queries.parallelMap(threads: options.threads, minimumCount: 64) { q in
                nearestClonotype(to: q.index, junction: q.junction, locus: q.locus, byLength: byLength)
            }
        }
        for (k, i) in searched.enumerated() {
            let c = clonotypes[i]
            // A near neighbour does not stop tracking (`mrd track` counts a read for an index clone
            // only when it is nearer to it than to any other baseline clonotype), an identical
            // junction of another kind does: no read could tell the two apart.
            if let (nearest, distance) = nearest[k] {
                clonotypes[i].nearestCloneID = clonotypes[nearest].cloneID
                clonotypes[i].nearestDistance = distance
                if distance == 0 {
                    clonotypes[i].notTrackableReason = "junction shared with \(clonotypes[nearest].cloneID)"
                    continue
                }
            }
            clonotypes[i].trackable = true
            // Target: the junction with up to 10 germline bases on each side, from the consensus of
            // the clone's reads (a representative read could carry an error in a flank).
            if !c.consensus.isEmpty {
                clonotypes[i].target = c.consensus
            } else {
                let start = max(0, c.representativeJunctionStart - 10)
                let end = min(c.representative.count, c.representativeJunctionStart + c.junction.count + 10)
                clonotypes[i].target = Array(c.representative[start..<end])
            }
        }
    }
}
