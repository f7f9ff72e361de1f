import Foundation

/// Which clonotypes of a diagnostic sample become index clones, and why the others do not.
struct IndexCloneSelection {
    let options: BaselineOptions

    /// Edit distances beyond this are not searched for the nearest clonotype.
    static let nearestSearchLimit = 6

    /// The clonotype of the same locus whose junction is fewest edits from clonotype `i`'s (first in
    /// clone order on ties), if any lies within `nearestSearchLimit`.
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

    func select(_ clonotypes: inout [Clonotype]) {
        // The dominant clone sets the leukemia's lineage; a marker of the other lineage (TR in a
        // B-ALL, IG in a T-ALL) must reach `minDominance` of its templates. (Within a lineage, long
        // junctions that short reads rarely cover would look small too, so they are not held to it.)
        func isB(_ locus: Locus) -> Bool { locus.rawValue.hasPrefix("IG") }
        let dominantClone = clonotypes.filter { $0.fraction >= options.minFraction }.max { $0.templates < $1.templates }
        for i in clonotypes.indices {
            let c = clonotypes[i]
            guard c.fraction >= options.minFraction else { continue }
            if let dominant = dominantClone, isB(dominant.locus) != isB(c.locus), c.templates < options.minDominance * dominant.templates {
                clonotypes[i].notTrackableReason = String(format: "%@ clone at %.0f%% of the dominant %@ clone's templates (< %.0f%%): a normal expanded clone or a minor subclone",
                                                          c.locus.rawValue, 100 * c.templates / dominant.templates, dominant.locus.rawValue, 100 * options.minDominance)
                continue
            }
            if c.count < options.minReads {
                clonotypes[i].notTrackableReason = "too few reads (\(c.count) < \(options.minReads))"
                continue
            }
            if c.junction.count < options.minJunctionLength {
                clonotypes[i].notTrackableReason = "junction too short (\(c.junction.count) nt < \(options.minJunctionLength))"
                continue
            }
            // One junction side (VJ, DJ, Kde, VD, DD) and few added bases: normal cells make the same
            // junction often enough to be found in follow-ups. VDJ junctions (two N regions and a D
            // trimmed on both sides) stay specific even when nearly germline.
            if c.kind != .VDJ && c.untemplated < options.minUntemplated {
                clonotypes[i].notTrackableReason = "junction nearly germline (\(c.untemplated) untemplated nt < \(options.minUntemplated)): normal cells share such junctions"
                continue
            }
            if c.junction.contains(where: { !"ACGT".utf8.contains($0) }) {
                clonotypes[i].notTrackableReason = "junction has ambiguous bases"
                continue
            }
            // A near neighbour does not stop tracking (`mrd track` counts a read for an index clone
            // only when it is nearer to it than to any other baseline clonotype), an identical
            // junction of another kind does: no read could tell the two apart.
            if let (nearest, distance) = nearestClonotype(to: i, in: clonotypes) {
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
