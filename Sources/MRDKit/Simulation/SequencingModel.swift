import Foundation

/// Illumina-like reads of an amplicon: qualities falling along the read, substitutions drawn from
/// those qualities (so a base called at Q has error probability 10^(-Q/10): quality strings agree
/// with the errors), rare single-base indels, N at the lowest qualities, either orientation.
public struct SequencingModel: Sendable {
    public var readLength = 150
    /// Mean Phred quality at the first and the last cycle (quadratic decline between).
    public var startQuality = 37.0
    public var endQuality = 24.0
    public var qualitySD = 4.0
    /// Chance of a single-base insertion or deletion per read.
    public var indelPerRead = 0.003
    /// Share of reads (or pairs) read from the J side first.
    public var reverseShare = 0.5

    public init() {}

    /// Per cycle, the cumulative distribution of Phred 2...41 (a discretised normal around the
    /// cycle's mean), so a quality costs one uniform draw and a short search.
    public func qualityTable() -> [[Double]] {
        (0..<readLength).map { cycle in
            let mean = meanQuality(at: cycle, of: readLength)
            var total = 0.0
            var cumulative: [Double] = []
            for q in 2...41 {
                let z = (Double(q) - mean) / qualitySD
                // Clamped tails fold onto 2 and 41, as rounding and clamping a normal draw would.
                let lower = q == 2 ? -Double.infinity : z - 0.5 / qualitySD
                let upper = q == 41 ? Double.infinity : z + 0.5 / qualitySD
                total += 0.5 * (erf(upper / 2.0.squareRoot()) - erf(lower / 2.0.squareRoot()))
                cumulative.append(total)
            }
            return cumulative.map { $0 / total }
        }
    }

    static let errorProbability: [Double] = (0...41).map { pow(10, -Double($0) / 10) }

    public func meanQuality(at cycle: Int, of length: Int) -> Double {
        let x = length > 1 ? Double(cycle) / Double(length - 1) : 0
        return startQuality - (startQuality - endQuality) * x * x
    }

    /// Writes one read of `template` starting at its 5' end into `bases`/`qualities` (cleared first).
    /// Returns the number of substitutions made.
    @discardableResult
    public func read(_ template: ArraySlice<UInt8>, bases: inout [UInt8], qualities: inout [UInt8],
                     table: [[Double]], random: inout SeededRandom) -> Int {
        bases.removeAll(keepingCapacity: true)
        qualities.removeAll(keepingCapacity: true)
        var source = Array(template.prefix(readLength + 1))
        if random.bernoulli(indelPerRead) && source.count > 20 {
            let position = 5 + random.below(source.count - 10)
            if random.bernoulli(0.5) { source.remove(at: position) } else { source.insert(source[position], at: position) }
        }
        let length = min(readLength, source.count, template.count)
        var errors = 0
        let alphabet: [UInt8] = Array("ACGT".utf8)
        for cycle in 0..<length {
            let cdf = table[cycle]
            let u = random.uniform()
            var low = 0, high = cdf.count - 1
            while low < high {
                let mid = (low + high) >> 1
                if cdf[mid] > u { high = mid } else { low = mid + 1 }
            }
            let quality = low + 2
            var base = source[cycle]
            if random.uniform() < Self.errorProbability[quality] {
                if quality <= 3 && random.bernoulli(0.5) {
                    base = UInt8(ascii: "N")
                } else {
                    var other = alphabet[random.below(4)]
                    while other == base { other = alphabet[random.below(4)] }
                    base = other
                }
                errors += 1
            }
            bases.append(base)
            qualities.append(UInt8(33 + quality))
        }
        return errors
    }
}
