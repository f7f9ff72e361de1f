import CSequenceKernels
import Foundation

/// Per-worker tally of a baseline sample.
///
/// Each distinct read sequence is classified once and memoised with the clonotype group it joined;
/// a repeated read then costs a hash, a comparison and its junction qualities. Everything that
/// depends only on the sequence (calls, representative) is applied once per distinct sequence, with
/// the number of reads that used it, which gives the same totals as doing it per read.
struct BaselineTally {
    /// One read's V, D and J calls as ids (-1: none): of this worker's tie lists (`callLists`) until
    /// `settle`, of the tally's call names (`callNames`) after it. No strings per read or group.
    struct CallIDs: Hashable {
        var v: Int32 = -1, d: Int32 = -1, j: Int32 = -1

        /// The same calls under other ids: `table[id]` for each id that is set.
        func renamed(_ table: [Int32]) -> CallIDs {
            CallIDs(v: v < 0 ? -1 : table[Int(v)], d: d < 0 ? -1 : table[Int(d)], j: j < 0 ? -1 : table[Int(j)])
        }

        mutating func set(_ field: Annotator.CallField, _ id: Int32) {
            switch field {
            case .v: v = id
            case .d: d = id
            case .j: j = id
            }
        }
    }

    /// A group's representative read (V-to-J direction, in the tally's arena) and what its
    /// clonotype takes from it.
    struct Representative {
        /// The read's bases: two bits each when `packedLength > 0` (a read of A, C, G, T only, as
        /// most are: a quarter of the bytes of the group's largest string), else as read.
        var sequence: ByteArena.Span
        var junctionStart: Int32
        var templatedFivePrime: Int16
        var templatedThreePrime: Int16
        var reversed: Bool
        var v: PackedAlignment?
        var j: PackedAlignment?
        /// Bases of a packed `sequence` (0: stored as read).
        var packedLength: Int32 = 0

        var length: Int { packedLength > 0 ? Int(packedLength) : Int(sequence.length) }

        /// Calls `body` with the read's bases as read (unpacked into a buffer of the stack).
        func withBases<R>(_ arena: ByteArena, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            guard packedLength > 0 else { return arena.withBytes(sequence, body) }
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(packedLength)) { bases in
                arena.withBytes(sequence) { packed in PackedBases.unpack(packed, count: Int(packedLength), into: bases) }
                return body(UnsafeBufferPointer(bases))
            }
        }

        func bases(_ arena: ByteArena) -> [UInt8] { withBases(arena) { Array($0) } }
    }

    /// Stores a read's bases in `arena`: packed two bits a base when they are A, C, G, T only.
    /// Returns the span and the packed length (0: stored as read).
    static func store(_ bases: UnsafeBufferPointer<UInt8>, in arena: inout ByteArena) -> (span: ByteArena.Span, packedLength: Int32) {
        guard !bases.isEmpty, PackedBases.isPackable(bases) else { return (arena.add(bases), 0) }
        let span = arena.add(count: (bases.count + 3) / 4) { PackedBases.pack(bases, into: $0) }
        return (span, Int32(bases.count))
    }

    /// The reads of one (locus, kind, junction). Its bytes (junction, representative, a lone read's
    /// scores and bases) live in the tally's `arena`: most groups of a diagnosis are one read with
    /// a sequencing error in its junction, and four small arrays each would cost more than the
    /// bytes they hold.
    struct Group {
        let locus: Locus
        let kind: RearrangementKind
        private(set) var junction: ByteArena.Span
        var count = 0
        /// Reads read V-to-J (not reverse-complemented): how the clone's reads cover it by orientation.
        var forward = 0
        /// Reads per V, D and J call (tie-list ids until `settle`, name ids after it).
        var callIDs = CountedKeys<CallIDs>()
        /// The representative read, chosen by content (longest, then first in lexicographic order), so
        /// it does not depend on which worker saw which read.
        private(set) var representative: Representative?
        /// Per junction position, the sum of the reads' Phred scores (40 for reads without
        /// qualities). Until a second read comes, the first read's scores stay bytes in the arena
        /// (`firstQualities`); then two bytes a position while that can hold the sums.
        private var junctionQualitySums = AdaptiveCounts<UInt16, Int>()
        private var firstQualities = ByteArena.Span()
        /// Base counts (A, C, G, T) over the junction, `BaselineTally.flank` bases after it and
        /// `BaselineTally.vWindow` before it, V-to-J: the target is their consensus, so that one
        /// read's sequencing error in a flank never becomes part of it; so are the clone's V bases
        /// before the target (clones.tsv `upstream`), which a representative read with a sequencing
        /// indel there would shift. Likewise kept as the first read's base codes (`firstBases`,
        /// 4 = none, with its weight) until a second read's bases come.
        private var baseCounts = AdaptiveCounts<UInt8, Int32>()
        private var firstBases = ByteArena.Span()
        private var firstBasesWeight: Int32 = 0
        /// The first read's base codes are the representative's (then `firstBases` is empty).
        private var firstBasesInRepresentative = false
        private var hasFirstBases: Bool { !firstBases.isEmpty || firstBasesInRepresentative }

        init(locus: Locus, kind: RearrangementKind, junction: ByteArena.Span) {
            self.locus = locus
            self.kind = kind
            self.junction = junction
        }

        /// What stands in for a group whose clonotype is built or folded: nothing held.
        static var released: Group { Group(locus: .IGH, kind: .VDJ, junction: ByteArena.Span()) }

        var span: Int { Int(junction.length) + BaselineTally.vWindow + BaselineTally.flank }

        /// The group with its spans in an arena that took this group's arena's chunks at `shift`.
        func moved(by shift: UInt32) -> Group {
            var moved = self
            moved.junction = junction.moved(by: shift)
            moved.representative?.sequence = representative?.sequence.moved(by: shift) ?? ByteArena.Span()
            moved.firstQualities = firstQualities.moved(by: shift)
            moved.firstBases = firstBases.moved(by: shift)
            return moved
        }

        /// Calls `body` with every arena span the group holds.
        func forEachSpan(_ body: (ByteArena.Span) -> Void) {
            if !junction.isEmpty { body(junction) }
            if let sequence = representative?.sequence, !sequence.isEmpty { body(sequence) }
            if !firstQualities.isEmpty { body(firstQualities) }
            if !firstBases.isEmpty { body(firstBases) }
        }

        /// The largest score a read adds at a position (a quality byte less 33).
        static let maxScore = 255

        /// Upper bounds of any one quality sum and any one base count.
        private var qualityBound: Int { junctionQualitySums.isEmpty ? (firstQualities.isEmpty ? 0 : Self.maxScore) : junctionQualitySums.bound }
        private var baseBound: Int { baseCounts.isEmpty ? (hasFirstBases ? Int(firstBasesWeight) : 0) : baseCounts.bound }

        /// The junction's quality sums (zeros before any read).
        func qualitySums(_ arena: ByteArena) -> [Int] {
            if !junctionQualitySums.isEmpty { return junctionQualitySums.values }
            if !firstQualities.isEmpty { return arena.withBytes(firstQualities) { $0.map(Int.init) } }
            return [Int](repeating: 0, count: Int(junction.length))
        }

        /// The junction's mean quality per position, rounded down (the reads' scores summed over
        /// the reads counted; one read's own scores).
        func meanQualities(_ arena: ByteArena) -> [UInt8] {
            if !junctionQualitySums.isEmpty {
                let reads = max(count, 1)
                return junctionQualitySums.values.map { UInt8(clamping: $0 / reads) }
            }
            if !firstQualities.isEmpty { return arena.array(firstQualities) }
            return [UInt8](repeating: 0, count: Int(junction.length))
        }

        /// The base counts (zeros before any read's bases).
        func counts(_ arena: ByteArena) -> [Int32] {
            if !baseCounts.isEmpty { return baseCounts.values }
            var counts = [Int32](repeating: 0, count: span * 4)
            let codes = firstBasesInRepresentative ? representativeCodes(arena) : arena.array(firstBases)
            for (q, c) in codes.enumerated() where c < 4 { counts[q * 4 + Int(c)] += firstBasesWeight }
            return counts
        }

        /// Adds one read's junction qualities (V-to-J order; `quality` as read, empty or of another
        /// length when the read has none).
        mutating func addQualities(_ quality: UnsafeBufferPointer<UInt8>, readLength: Int, reversed: Bool, junctionStart: Int, junctionEnd: Int,
                                   arena: inout ByteArena) {
            let length = junctionEnd - junctionStart
            /// Phred score of junction position p (40 for a read without qualities).
            func score(_ p: Int) -> UInt8 {
                guard quality.count == readLength else { return 40 }
                return quality[reversed ? readLength - 1 - (junctionStart + p) : junctionStart + p] &- 33
            }
            if junctionQualitySums.isEmpty && firstQualities.isEmpty {
                firstQualities = arena.add(count: length) { scores in for p in 0..<length { scores[p] = score(p) } }
                return
            }
            if junctionQualitySums.isEmpty {
                junctionQualitySums = AdaptiveCounts(qualitySums(arena), bound: Self.maxScore)
                firstQualities = ByteArena.Span()
            }
            func add<T: FixedWidthInteger>(_ sums: UnsafeMutableBufferPointer<T>) {
                for p in 0..<length { sums[p] += T(score(p)) }
            }
            junctionQualitySums.update(maxIncrement: Self.maxScore, narrow: { add($0) }, wide: { add($0) })
        }

        /// Adds one distinct read's bases around the junction, `weight` times.
        mutating func addBases(_ bytes: UnsafeBufferPointer<UInt8>, reversed: Bool, junctionStart: Int, weight: Int32, arena: inout ByteArena) {
            let span = self.span
            func forEachCode(_ body: (Int, UInt8) -> Void) {
                Self.windowCodes(bytes, reversed: reversed, junctionStart: junctionStart, span: span, body)
            }
            if baseCounts.isEmpty && !hasFirstBases {
                firstBasesWeight = weight
                var codes = [UInt8](repeating: 4, count: span)
                codes.withUnsafeMutableBufferPointer { codes in forEachCode { q, c in codes[q] = c } }
                // Most groups are one read, their representative: its codes are not kept twice.
                if codes == representativeCodes(arena) {
                    firstBasesInRepresentative = true
                } else {
                    firstBases = codes.withUnsafeBufferPointer { arena.add($0) }
                }
                return
            }
            if baseCounts.isEmpty {
                baseCounts = AdaptiveCounts(counts(arena), bound: Int(firstBasesWeight))
                firstBases = ByteArena.Span()
                firstBasesInRepresentative = false
            }
            func add<T: FixedWidthInteger>(_ counts: UnsafeMutableBufferPointer<T>) {
                let increment = T(weight)
                forEachCode { q, c in if c < 4 { counts[q * 4 + Int(c)] += increment } }
            }
            baseCounts.update(maxIncrement: Int(weight), narrow: { add($0) }, wide: { add($0) })
        }

        /// Adds another worker's group of the same key (qualities and base counts); both groups'
        /// spans are in `arena`.
        mutating func addCounts(of other: Group, arena: inout ByteArena) {
            if !other.firstQualities.isEmpty || !other.junctionQualitySums.isEmpty {
                if firstQualities.isEmpty && junctionQualitySums.isEmpty {
                    firstQualities = other.firstQualities
                    junctionQualitySums = other.junctionQualitySums
                } else {
                    junctionQualitySums = AdaptiveCounts(summing: qualitySums(arena), other.qualitySums(arena),
                                                         bound: qualityBound + other.qualityBound)
                    firstQualities = ByteArena.Span()
                }
            }
            if other.hasFirstBases || !other.baseCounts.isEmpty {
                if !hasFirstBases && baseCounts.isEmpty {
                    // The other group's representative may not become this one's: its codes are kept.
                    firstBases = other.firstBasesInRepresentative ? other.representativeCodes(arena).withUnsafeBufferPointer { arena.add($0) }
                                                                  : other.firstBases
                    firstBasesWeight = other.firstBasesWeight
                    baseCounts = other.baseCounts
                } else {
                    baseCounts = AdaptiveCounts(summing: counts(arena), other.counts(arena), bound: baseBound + other.baseBound)
                    firstBases = ByteArena.Span()
                    firstBasesInRepresentative = false
                }
            }
        }

        /// The consensus of the junction and of the flank bases that at least half the reads cover
        /// (`bases`, the junction at `junctionOffset`), and of up to `BaselineClone.upstreamLength` V
        /// bases before a whole left flank (`upstream`: each position read by half the reads, or
        /// by 20 or more, two thirds of them agreeing).
        func consensus(_ arena: ByteArena) -> (bases: [UInt8], junctionOffset: Int, upstream: [UInt8]) {
            let baseCounts = counts(arena)
            let span = baseCounts.count / 4, flank = BaselineTally.flank, left = BaselineTally.vWindow
            let letters: [UInt8] = Array("ACGT".utf8)
            func call(_ q: Int, upstream: Bool = false) -> UInt8? {
                let counts = baseCounts[(q * 4)..<(q * 4 + 4)]
                let total = Int(counts.reduce(0, +))
                guard total > 0, let best = counts.indices.max(by: { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }) else { return nil }
                if total * 2 >= count { return letters[best - q * 4] }
                guard upstream, total >= 20, Int(counts[best]) * 3 >= total * 2 else { return nil }
                return letters[best - q * 4]
            }
            var start = left
            while start > left - flank, call(start - 1) != nil { start -= 1 }
            var end = span - flank
            while end < span, call(end) != nil { end += 1 }
            let bases = (start..<left).compactMap { call($0) } + arena.array(junction) + ((span - flank)..<end).compactMap { call($0) }
            var upstream: [UInt8] = []
            if start == left - flank {
                var first = start
                while first > 0, call(first - 1, upstream: true) != nil { first -= 1 }
                upstream = (first..<start).compactMap { call($0, upstream: true) }
            }
            return (bases, left - start, upstream)
        }

        /// Takes `candidate` (its sequence in `arena`) as the representative if it is preferred.
        mutating func offer(_ candidate: Representative, arena: inout ByteArena) {
            let preferred = candidate.withBases(arena) { prefers($0, reversed: candidate.reversed, arena: arena) }
            if preferred { replaceRepresentative(candidate, arena: &arena) }
        }

        /// Makes `candidate` the representative; first reads whose base codes were the old
        /// representative's get codes of their own.
        mutating func replaceRepresentative(_ candidate: Representative, arena: inout ByteArena) {
            if firstBasesInRepresentative {
                let codes = representativeCodes(arena)
                firstBases = codes.withUnsafeBufferPointer { arena.add($0) }
                firstBasesInRepresentative = false
            }
            representative = candidate
        }

        /// The window's base codes (4: none) of the representative read, as `addBases` makes them.
        private func representativeCodes(_ arena: ByteArena) -> [UInt8] {
            guard let representative else { return [] }
            var codes = [UInt8](repeating: 4, count: span)
            representative.withBases(arena) { bytes in
                codes.withUnsafeMutableBufferPointer { codes in
                    Self.windowCodes(bytes, reversed: false, junctionStart: Int(representative.junctionStart), span: span) { q, c in codes[q] = c }
                }
            }
            return codes
        }

        /// Calls `body(q, code)` for each window position q a read covers (code 0-3 for A/C/G/T, 4
        /// else; `bytes` as read, V-to-J after reverse-complementing when `reversed`), through one
        /// buffer each: an element access of an array per base would check its uniqueness each time.
        static func windowCodes(_ bytes: UnsafeBufferPointer<UInt8>, reversed: Bool, junctionStart: Int, span: Int, _ body: (Int, UInt8) -> Void) {
            let n = bytes.count
            let first = max(0, BaselineTally.vWindow - junctionStart), last = min(span, n - junctionStart + BaselineTally.vWindow)
            guard first < last else { return }
            KmerScanner.code.withUnsafeBufferPointer { code in
                complementTable.withUnsafeBufferPointer { complement in
                    for q in first..<last {
                        let position = junctionStart - BaselineTally.vWindow + q
                        body(q, code[Int(reversed ? complement[Int(bytes[n - 1 - position])] : bytes[position])])
                    }
                }
            }
        }

        /// Whether a read (V-to-J direction) would replace the representative: longer, then first in
        /// lexicographic order, then read forward (two reads can give the same V-to-J sequence).
        func prefers(_ candidate: UnsafeBufferPointer<UInt8>, reversed: Bool, arena: ByteArena) -> Bool {
            Self.prefers(candidate, reversed: reversed, over: representative, arena: arena)
        }

        /// As `prefers(_:reversed:arena:)`, given the representative alone (a group in a chunked
        /// array is read through a pointer: a method called on it would copy the whole group).
        static func prefers(_ candidate: UnsafeBufferPointer<UInt8>, reversed: Bool, over representative: Representative?,
                            arena: ByteArena) -> Bool {
            guard let current = representative else { return true }
            if candidate.count != current.length { return candidate.count > current.length }
            let order = current.packedLength > 0
                ? arena.withBytes(current.sequence) { PackedBases.compare(candidate, packed: $0) }
                : arena.withBytes(current.sequence) { held in candidate.count == 0 ? 0 : Int(memcmp(candidate.baseAddress!, held.baseAddress!, candidate.count)) }
            return order != 0 ? order < 0 : (!reversed && current.reversed)
        }
    }

    /// What the memo keeps per distinct read sequence, in 40 bytes (the memo holds 10^5 of them).
    struct Verdict {
        enum Kind: UInt8 { case spikeIn, unassigned, group, notKept, foldedEarly }
        var kind: Kind
        var reversed = false
        private var storedValue: Int32
        var calls = CallIDs()
        private var storedJunctionStart: Int32 = 0, storedJunctionEnd: Int32 = 0
        /// Reads whose outcome this verdict gave.
        var used = 0

        init(kind: Kind, value: Int, calls: CallIDs = CallIDs(), junctionStart: Int = 0, junctionEnd: Int = 0, reversed: Bool = false) {
            self.kind = kind
            storedValue = Int32(value)
            self.calls = calls
            storedJunctionStart = Int32(junctionStart)
            storedJunctionEnd = Int32(junctionEnd)
            self.reversed = reversed
        }

        /// Spike index, reason index, group index, the locus order of a read not kept, or the frozen key a read folded into.
        var value: Int { Int(storedValue) }
        var junctionStart: Int { Int(storedJunctionStart) }
        var junctionEnd: Int { Int(storedJunctionEnd) }
    }

    var groups = ChunkedArray<Group>()
    /// The groups' bytes.
    var arena = ByteArena()
    var groupIndex = GroupTable()
    var memo: SequenceMemo<Verdict>
    var scratch: AnnotationScratch?
    /// Tie lists of elements met by this worker (a call id is an index here), and their ids.
    var callLists: [[Int32]] = []
    var callListIDs: [[Int32]: Int32] = [:]
    private var callKey: [Int32] = []
    var singleCallIDs: [Int32] = []
    var spikeHits: [Int32] = []
    var touchedSpikes: [Int32] = []
    var spikeKmers: [UInt32] = []
    /// Germline bases each side of the junction in an index clone's target.
    static let flank = 10
    /// Bases before the junction whose counts a group keeps: the target's flank and the clone's
    /// upstream V bases (clones.tsv `upstream`).
    static let vWindow = flank + BaselineClone.upstreamLength

    init(memoCapacity: Int = 0) {
        memo = SequenceMemo(capacity: memoCapacity, admitOnRepeat: true)
    }
    var total = 0
    /// Paired-end: overlapping mates merged before annotation (per worker).
    var merger = PairMerger()
    var pairs = PairCounts()
    var spikes: [Int: Int] = [:]
    var unassigned = [Int](repeating: 0, count: UnassignedReason.allCases.count)
    /// Reads of junctions met only after the group limit was reached, per locus (`Locus.order`).
    var notKept = [Int](repeating: 0, count: Locus.allCases.count)
    /// The junctions that may still open a group here, once the limit is reached (see `GroupLimit`).
    var frozenKeys: FrozenGroupKeys?
    /// Reads (and those read forward) of new junctions past the limit folded into a frozen key.
    var foldedEarly: [Int: (reads: Int, forward: Int)] = [:]
    /// Groups at the end of the last epoch (those after it are the epoch's new ones).
    var epochStartGroups = 0

    /// The id of a list of tied candidates.
    mutating func callID(_ candidates: [Annotator.Placement]) -> Int32 {
        if candidates.count == 1 {
            let e = Int(candidates[0].element)
            if e < singleCallIDs.count, singleCallIDs[e] >= 0 { return singleCallIDs[e] }
        }
        // Looked up through a reused buffer: no array is made for a list already met.
        callKey.removeAll(keepingCapacity: true)
        for candidate in candidates { callKey.append(candidate.element) }
        if let id = callListIDs[callKey] { return id }
        let elements = callKey
        let id = Int32(callLists.count)
        callLists.append(elements)
        callListIDs[elements] = id
        if elements.count == 1 {
            let e = Int(elements[0])
            if singleCallIDs.count <= e { singleCallIDs += [Int32](repeating: -1, count: e + 1 - singleCallIDs.count) }
            singleCallIDs[e] = id
        }
        return id
    }

    /// The verdict on one read's bases: memoised, or computed (and memoised while there is room).
    /// Returns the memo entry, or the verdict itself when the memo is full.
    mutating func verdict(_ bases: UnsafeBufferPointer<UInt8>, hash: UInt64, classifier: ReadClassifier) -> (entry: Int?, verdict: Verdict) {
        if let entry = memo.index(of: bases, hash: hash) { return (entry, memo[entry]) }
        let verdict = classify(bases, classifier: classifier)
        return (memo.insert(bases, hash: hash, payload: verdict), verdict)
    }

    /// Spike-ins first (a calibrator never becomes a clonotype), then annotation.
    private mutating func classify(_ bases: UnsafeBufferPointer<UInt8>, classifier: ReadClassifier) -> Verdict {
        if let matcher = classifier.spikes, let spike = matcher.match(bases, hits: &spikeHits, touched: &touchedSpikes, kmers: &spikeKmers) {
            return Verdict(kind: .spikeIn, value: spike)
        }
        let annotator = classifier.annotator
        if scratch == nil { scratch = AnnotationScratch(annotator) }
        let location: Annotator.Location
        switch annotator.locate(bases, &scratch!) {
        case .failure(let reason): return Verdict(kind: .unassigned, value: UnassignedReason.allCases.firstIndex(of: reason)!)
        case .success(let found): location = found
        }
        let read = location.reversed ? scratch!.reverse : nil
        return Self.withOriented(bases, read) { oriented in
            let junction = UnsafeBufferPointer(rebasing: oriented[location.junctionStart..<location.junctionEnd])
            let hash = GroupTable.hash(junction)
            // The read as a representative, its bases stored at `stored` (packed or as read).
            func representative(_ stored: (span: ByteArena.Span, packedLength: Int32)) -> Representative {
                var representative = annotator.representative(location, read: read ?? Array(bases), sequence: stored.span)
                representative.packedLength = stored.packedLength
                return representative
            }
            let g: Int
            if let known = groupIndex.find(location.locus, location.kind, junction, hash: hash, in: groups, arena: arena) {
                g = known
                // Alignments only for a read that becomes the representative.
                if Group.prefers(oriented, reversed: location.reversed, over: groups.withElementPointer(g) { $0.pointee.representative },
                                 arena: arena) {
                    groups[g].replaceRepresentative(representative(Self.store(oriented, in: &arena)), arena: &arena)
                }
            } else {
                // Past the group limit, a junction not met before opens no group.
                if let frozenKeys, !frozenKeys.contains(location.locus, location.kind, junction, hash: hash) {
                    if let parent = frozenKeys.parent(of: junction, locus: location.locus) {
                        return Verdict(kind: .foldedEarly, value: parent, reversed: location.reversed)
                    }
                    return Verdict(kind: .notKept, value: location.locus.order)
                }
                // The first read is the representative; the junction is its bytes when they are
                // kept as read (never copied: the arena keeps a replaced representative's bytes).
                g = groups.count
                let stored = Self.store(oriented, in: &arena)
                let junctionSpan = stored.packedLength > 0 ? arena.add(junction)
                                                           : stored.span.subspan(from: location.junctionStart, length: junction.count)
                var group = Group(locus: location.locus, kind: location.kind, junction: junctionSpan)
                group.replaceRepresentative(representative(stored), arena: &arena)
                groups.append(group)
                groupIndex.insert(g, hash: hash)
            }
            var calls = CallIDs()
            let fields = annotator.callFields(location)
            calls.set(fields.five, callID(scratch!.fives))
            calls.set(fields.three, callID(scratch!.threes))
            return Verdict(kind: .group, value: g, calls: calls, junctionStart: location.junctionStart,
                           junctionEnd: location.junctionEnd, reversed: location.reversed)
        }
    }

    private static func withOriented<R>(_ bases: UnsafeBufferPointer<UInt8>, _ reversed: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let reversed else { return body(bases) }
        return reversed.withUnsafeBufferPointer(body)
    }

    /// The expected number of sequencing errors in the junction a verdict found in a read.
    static func expectedJunctionErrors(_ verdict: Verdict, quality: UnsafeBufferPointer<UInt8>, readLength: Int) -> Double {
        MRDKit.expectedJunctionErrors(quality, readLength: readLength, reversed: verdict.reversed,
                                      junctionStart: verdict.junctionStart, junctionEnd: verdict.junctionEnd)
    }

    /// Counts one read under `verdict`.
    mutating func count(_ verdict: Verdict, entry: Int?, bases: UnsafeBufferPointer<UInt8>, quality: UnsafeBufferPointer<UInt8>) {
        let readLength = bases.count
        if let entry { memo[entry].used += 1 }
        switch verdict.kind {
        case .spikeIn: if entry == nil { spikes[verdict.value, default: 0] += 1 }
        case .unassigned: if entry == nil { unassigned[verdict.value] += 1 }
        case .notKept: if entry == nil { notKept[verdict.value] += 1 }
        case .foldedEarly: if entry == nil { foldEarly(verdict, reads: 1) }
        case .group:
            let g = verdict.value
            groups[g].count += 1
            if !verdict.reversed && entry == nil { groups[g].forward += 1 }
            if entry == nil {
                groups[g].callIDs.add(verdict.calls, 1)
                groups[g].addBases(bases, reversed: verdict.reversed, junctionStart: verdict.junctionStart, weight: 1, arena: &arena)
            }
            groups[g].addQualities(quality, readLength: readLength, reversed: verdict.reversed, junctionStart: verdict.junctionStart,
                                   junctionEnd: verdict.junctionEnd, arena: &arena)
        }
    }

    private mutating func foldEarly(_ verdict: Verdict, reads: Int) {
        addFoldedEarly(verdict.value, reads: reads, forward: verdict.reversed ? 0 : reads)
    }

    private mutating func addFoldedEarly(_ key: Int, reads: Int, forward: Int) {
        let counts = foldedEarly[key] ?? (0, 0)
        foldedEarly[key] = (counts.reads + reads, counts.forward + forward)
    }

    /// Applies the memoised verdicts' read counts (calls, spike-ins, unassigned) and names the
    /// calls; call once, at the end.
    mutating func settle(_ annotator: Annotator) {
        for (entry, verdict) in memo.payloads.enumerated() where verdict.used > 0 {
            switch verdict.kind {
            case .spikeIn: spikes[verdict.value, default: 0] += verdict.used
            case .unassigned: unassigned[verdict.value] += verdict.used
            case .notKept: notKept[verdict.value] += verdict.used
            case .foldedEarly: foldEarly(verdict, reads: verdict.used)
            case .group:
                groups[verdict.value].callIDs.add(verdict.calls, verdict.used)
                if !verdict.reversed { groups[verdict.value].forward += verdict.used }
                memo.withKey(entry) { bytes in
                    groups[verdict.value].addBases(bytes, reversed: verdict.reversed, junctionStart: verdict.junctionStart, weight: Int32(verdict.used),
                                                   arena: &arena)
                }
            }
        }
        memo = SequenceMemo(capacity: 0)
        // Tie lists that name the same alleles become one name id.
        let nameIDs = callLists.map { internCallName(annotator.calls($0)) }
        for g in groups.indices {
            groups[g].callIDs = groups[g].callIDs.mapKeys { $0.renamed(nameIDs) }
        }
    }

    /// Call names (alleles, comma-separated) of the settled groups' call ids.
    private(set) var callNames: [String] = []
    private var callNameIDs: [String: Int32] = [:]

    /// The id of a call name; "" is -1 (no call).
    private mutating func internCallName(_ name: String) -> Int32 {
        if name.isEmpty { return -1 }
        if let id = callNameIDs[name] { return id }
        let id = Int32(callNames.count)
        callNames.append(name)
        callNameIDs[name] = id
        return id
    }

    /// Adds a settled tally into this settled one (its arena's chunks are taken, not copied).
    mutating func merge(_ other: consuming BaselineTally) {
        total += other.total
        pairs.add(other.pairs)
        for (k, v) in other.spikes { spikes[k, default: 0] += v }
        for i in unassigned.indices { unassigned[i] += other.unassigned[i] }
        for i in notKept.indices { notKept[i] += other.notKept[i] }
        for (key, counts) in other.foldedEarly { addFoldedEarly(key, reads: counts.reads, forward: counts.forward) }
        if frozenKeys == nil { frozenKeys = other.frozenKeys }
        let theirs = other.groups
        other.groups = ChunkedArray()
        let shift = arena.absorb(other.arena)
        let nameIDs = other.callNames.map { internCallName($0) }
        for original in theirs {
            var group = original.moved(by: shift)
            group.callIDs = group.callIDs.mapKeys { $0.renamed(nameIDs) }
            let (hash, found) = arena.withBytes(group.junction) { junction in
                let hash = GroupTable.hash(junction)
                return (hash, groupIndex.find(group.locus, group.kind, junction, hash: hash, in: groups, arena: arena))
            }
            guard let g = found else {
                groups.append(group)
                groupIndex.insert(groups.count - 1, hash: hash)
                continue
            }
            groups[g].count += group.count
            groups[g].forward += group.forward
            group.callIDs.forEach { ids, n in groups[g].callIDs.add(ids, n) }
            groups[g].addCounts(of: group, arena: &arena)
            if let representative = group.representative { groups[g].offer(representative, arena: &arena) }
        }
    }
}

/// Counts per key where nearly always one key is met (a group's reads nearly all get the same
/// calls): the first key is held inline, a dictionary made only for a second one.
struct CountedKeys<Key: Hashable> {
    private var first: Key?
    private var firstCount = 0
    private var others: [Key: Int] = [:]

    mutating func add(_ key: Key, _ n: Int) {
        if first == nil { first = key }
        if first == key { firstCount += n } else { others[key, default: 0] += n }
    }

    /// The same counts under other keys (keys that become equal add up).
    func mapKeys<Other: Hashable>(_ transform: (Key) -> Other) -> CountedKeys<Other> {
        var mapped = CountedKeys<Other>()
        forEach { key, n in mapped.add(transform(key), n) }
        return mapped
    }

    /// Each key with its count (the first key first, then the others in no particular order).
    func forEach(_ body: (Key, Int) -> Void) {
        guard let first else { return }
        body(first, firstCount)
        for (key, n) in others { body(key, n) }
    }
}

/// The tally's groups by key (locus, kind, junction): open addressing over indexes into the
/// groups array, compared against the groups' own keys, so that a read whose junction already has
/// a group finds it without a key being made (no allocation, no SipHash per read).
struct GroupTable {
    private var table = IndexHashTable()

    static func hash(_ junction: UnsafeBufferPointer<UInt8>) -> UInt64 { mrd_hash_bytes(junction.baseAddress, junction.count) }

    func find(_ locus: Locus, _ kind: RearrangementKind, _ junction: UnsafeBufferPointer<UInt8>, hash: UInt64,
              in groups: ChunkedArray<BaselineTally.Group>, arena: ByteArena) -> Int? {
        table.find(hash: hash) { group in
            groups.withElementPointer(group) { g in
                g.pointee.locus == locus && g.pointee.kind == kind && Int(g.pointee.junction.length) == junction.count
                    && arena.withBytes(g.pointee.junction) { memcmp($0.baseAddress!, junction.baseAddress!, junction.count) == 0 }
            }
        }
    }

    /// Adds group `g` (not yet in the table) under `hash`.
    mutating func insert(_ g: Int, hash: UInt64) { table.insert(g, hash: hash) }
}

/// Counts kept in a narrow type (bytes) while no count can overflow it, widened once one could: a
/// group of a few reads needs a few bits a count, a clone of 10^5 reads needs more. `bound` is an
/// upper bound of every count (the largest increments added up), so the switch never loses a count.
struct AdaptiveCounts<Narrow: FixedWidthInteger & UnsignedInteger, Wide: FixedWidthInteger> {
    private var narrow: [Narrow] = []
    private var wide: [Wide] = []
    private(set) var bound = 0

    init() {}

    /// Starts from `values`, none above `bound`.
    init(_ values: [Wide], bound: Int) {
        if bound <= Int(Narrow.max) { narrow = values.map { Narrow($0) } } else { wide = values }
        self.bound = bound
    }

    /// Starts from the sums of two tables of counts, none of which is above `bound`.
    init(summing a: [Wide], _ b: [Wide], bound: Int) {
        var sums = a
        for i in sums.indices { sums[i] += b[i] }
        self.init(sums, bound: bound)
    }

    var isEmpty: Bool { narrow.isEmpty && wide.isEmpty }

    var values: [Wide] { wide.isEmpty ? narrow.map { Wide($0) } : wide }

    /// Lets `narrow` or `wide` add to the counts, at most `maxIncrement` to any one count.
    mutating func update(maxIncrement: Int, narrow updateNarrow: (UnsafeMutableBufferPointer<Narrow>) -> Void,
                         wide updateWide: (UnsafeMutableBufferPointer<Wide>) -> Void) {
        bound += maxIncrement
        if wide.isEmpty && bound > Int(Narrow.max) {
            wide = narrow.map { Wide($0) }
            narrow = []
        }
        if wide.isEmpty { narrow.withUnsafeMutableBufferPointer { updateNarrow($0) } } else { wide.withUnsafeMutableBufferPointer { updateWide($0) } }
    }
}
