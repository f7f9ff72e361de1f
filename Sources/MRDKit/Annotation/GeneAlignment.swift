/// A gapped alignment of a read with a germline gene: where it lies on each, its operations
/// (AIRR/SAM `M` aligned column, `I` a read base the gene lacks, `D` a gene base the read lacks) and
/// how many aligned columns are identical.
public struct GeneAlignment: Sendable, Equatable {
    public enum Operation: Character, Sendable { case match = "M", insertion = "I", deletion = "D" }
    public var readStart: Int
    public var readEnd: Int
    public var germlineStart: Int
    public var germlineEnd: Int
    public var germlineLength: Int
    /// Runs of operations, 5' to 3'.
    public var operations: [(Operation, Int)]
    public var identical: Int

    public static func == (a: GeneAlignment, b: GeneAlignment) -> Bool {
        a.readStart == b.readStart && a.readEnd == b.readEnd && a.germlineStart == b.germlineStart && a.germlineEnd == b.germlineEnd
            && a.identical == b.identical && a.operations.map(\.0) == b.operations.map(\.0) && a.operations.map(\.1) == b.operations.map(\.1)
    }

    /// Columns of the alignment (aligned pairs plus gaps).
    public var columns: Int { operations.reduce(0) { $0 + $1.1 } }
    /// AIRR's fractional identity: identical columns over all columns.
    public var identity: Double { columns == 0 ? 0 : Double(identical) / Double(columns) }

    /// AIRR CIGAR: read bases before (S), germline bases skipped (N), the operations, read bases after (S).
    public func cigar(readLength: Int) -> String {
        var text = ""
        if readStart > 0 { text += "\(readStart)S" }
        if germlineStart > 0 { text += "\(germlineStart)N" }
        for (operation, count) in operations { text += "\(count)\(operation.rawValue)" }
        if readLength > readEnd { text += "\(readLength - readEnd)S" }
        return text
    }

    /// The aligned read and germline, column by column, `-` in gaps.
    public func columns(read: [UInt8], germline: [UInt8]) -> (read: [UInt8], germline: [UInt8]) {
        var r: [UInt8] = [], g: [UInt8] = []
        var i = readStart, j = germlineStart
        let gap = UInt8(ascii: "-")
        for (operation, count) in operations {
            for _ in 0..<count {
                switch operation {
                case .match: r.append(read[i]); g.append(germline[j]); i += 1; j += 1
                case .insertion: r.append(read[i]); g.append(gap); i += 1
                case .deletion: r.append(gap); g.append(germline[j]); j += 1
                }
            }
        }
        return (r, g)
    }
}

/// Gapped alignment of the V gene on a read, for hypermutated V regions with small indels: from the
/// junction side, where the seed placed the gene, a banded affine-gap extension towards the 5' end
/// (free to stop where the read or the gene ends, or where a primer or leader begins).
public enum GeneAligner {
    static let match = 2, mismatch = -3, gapOpen = -6, gapExtend = -1
    /// Widest indel drift allowed between read and gene over the whole extension.
    static let band = 12

    /// The V alignment of a read turned V-to-J from its ungapped one (on the diagonal that placed the
    /// junction): that one as it is when it reaches the read's or the gene's 5' end (no indel can
    /// hide there), else the gapped extension from the Cys.
    public static func alignV(read: [UInt8], junctionStart: Int, ungapped v: SegmentAlignment, germline: [UInt8]) -> GeneAlignment? {
        guard junctionStart >= v.readStart, junctionStart <= v.readEnd, v.readEnd <= read.count else { return nil }
        let germlineAnchor = v.germlineStart + (junctionStart - v.readStart)
        let tail = min(v.readEnd - junctionStart, germline.count - germlineAnchor)
        guard germlineAnchor <= germline.count, tail >= 0 else { return nil }
        // Within a few bases of an end: a primer or the gene's start, not an indel.
        if v.readStart <= 3 || v.germlineStart <= 3 {
            var identical = 0
            for p in v.readStart..<(junctionStart + tail) where read[p] == germline[v.germlineStart + p - v.readStart] { identical += 1 }
            let length = junctionStart + tail - v.readStart
            return GeneAlignment(readStart: v.readStart, readEnd: junctionStart + tail, germlineStart: v.germlineStart,
                                 germlineEnd: germlineAnchor + tail, germlineLength: germline.count,
                                 operations: length > 0 ? [(.match, length)] : [], identical: identical)
        }
        return extendV(read: read, readEnd: junctionStart, germline: germline, germlineEnd: germlineAnchor, tail: tail)
    }

    /// Aligns `germline[..<germlineEnd]` with `read[..<readEnd]` backwards from the two ends, which
    /// must be aligned with each other (the ungapped part from there on is `tail` columns long).
    public static func extendV(read: [UInt8], readEnd: Int, germline: [UInt8], germlineEnd: Int, tail: Int) -> GeneAlignment {
        // Work on the reversed prefixes: row i = i read bases consumed, column offset d = j - i.
        let n = readEnd, m = germlineEnd, w = band, width = 2 * w + 1
        let negative = Int.min / 4
        // h: best ending in an aligned pair or any state; e: gap in the read (deletion); f: gap in the germline (insertion).
        var h = [Int](repeating: negative, count: (n + 1) * width)
        var e = h, f = h
        // Traceback: 0 diagonal, 1 from e (deletion), 2 from f (insertion), 3 start; bits 2/3 say whether e/f extended.
        var trace = [UInt8](repeating: 3, count: (n + 1) * width)
        func slot(_ i: Int, _ j: Int) -> Int? {
            let d = j - i
            guard abs(d) <= w, i >= 0, j >= 0, i <= n, j <= m else { return nil }
            return i * width + d + w
        }
        h[slot(0, 0)!] = 0
        var best = 0, bestI = 0, bestJ = 0
        for i in 0...n {
            let lo = max(0, i - w), hi = min(m, i + w)
            guard lo <= hi else { continue }
            for j in lo...hi {
                let s = slot(i, j)!
                if i == 0 && j == 0 { continue }
                var traceByte: UInt8 = 0
                // e: deletion (germline base j consumed, no read base).
                if let left = slot(i, j - 1) {
                    let open = h[left] + gapOpen + gapExtend, extend = e[left] + gapExtend
                    if extend > open { e[s] = extend; traceByte |= 4 } else { e[s] = open }
                }
                if let up = slot(i - 1, j) {
                    let open = h[up] + gapOpen + gapExtend, extend = f[up] + gapExtend
                    if extend > open { f[s] = extend; traceByte |= 8 } else { f[s] = open }
                }
                var value = negative, from: UInt8 = 3
                if i > 0 && j > 0, let diagonal = slot(i - 1, j - 1), h[diagonal] > negative {
                    value = h[diagonal] + (read[n - i] == germline[m - j] ? match : mismatch)
                    from = 0
                }
                if e[s] > value { value = e[s]; from = 1 }
                if f[s] > value { value = f[s]; from = 2 }
                h[s] = value
                trace[s] = traceByte | from
                // Ends only on an aligned pair, never in a gap.
                if from == 0 && value > best { best = value; bestI = i; bestJ = j }
            }
        }
        // Trace back from the best cell to the start (0, 0): the operations come out 5' to 3'.
        var operations: [(GeneAlignment.Operation, Int)] = []
        func push(_ operation: GeneAlignment.Operation) {
            if let last = operations.last, last.0 == operation { operations[operations.count - 1].1 += 1 } else { operations.append((operation, 1)) }
        }
        var i = bestI, j = bestJ, state = 0, identical = 0
        while i > 0 || j > 0 {
            let s = slot(i, j)!
            let byte = trace[s]
            if state == 0 { state = Int(byte & 3); if state == 3 { break } }
            switch state {
            case 0:
                if read[n - i] == germline[m - j] { identical += 1 }
                push(.match); i -= 1; j -= 1
            case 1:
                push(.deletion)
                state = byte & 4 != 0 ? 1 : 0
                j -= 1
            default:
                push(.insertion)
                state = byte & 8 != 0 ? 2 : 0
                i -= 1
            }
        }
        if tail > 0 {
            for t in 0..<tail where readEnd + t < read.count && germlineEnd + t < germline.count && read[readEnd + t] == germline[germlineEnd + t] {
                identical += 1
            }
            push(.match)
            operations[operations.count - 1].1 += tail - 1
        }
        return GeneAlignment(readStart: n - bestI, readEnd: readEnd + tail, germlineStart: m - bestJ, germlineEnd: germlineEnd + tail,
                             germlineLength: germline.count, operations: operations, identical: identical)
    }
}

/// Germline bases placed on a read: a D gene's exact match inside a junction.
public struct PlacedGermline: Sendable, Equatable {
    /// 0-based start on the read.
    public var start: Int
    public var bases: [UInt8]
}
