import Foundation

/// xoshiro256** seeded through SplitMix64: fast, and the same numbers on every platform, so a
/// seed gives the same simulated bytes everywhere.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0, s1, s2, s3: UInt64

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    /// An independent stream for a named part of the simulation (a sample, a patient), so that
    /// changing one part does not shift the numbers of the others, whatever the thread count.
    public init(seed: UInt64, stream: String) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in stream.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        self.init(seed: seed ^ hash)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    @inline(__always)
    public mutating func uniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform integer in 0..<n.
    @inline(__always)
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    public mutating func bernoulli(_ p: Double) -> Bool { uniform() < p }

    /// Standard normal (Box-Muller).
    public mutating func normal(mean: Double = 0, sd: Double = 1) -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Geometric number of failures before the first success, with the given mean (>= 0).
    public mutating func geometric(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        let p = 1 / (1 + mean)
        return Int(log(max(uniform(), 1e-300)) / log(1 - p))
    }

    /// Poisson: multiplication for small means, PTRS (Hormann 1993) for large ones.
    public mutating func poisson(_ mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean < 30 {
            let limit = exp(-mean)
            var k = 0
            var product = uniform()
            while product > limit { k += 1; product *= uniform() }
            return k
        }
        let slam = mean.squareRoot(), logLam = log(mean)
        let b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b
        let invAlpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2)
        while true {
            let u = uniform() - 0.5, v = uniform()
            let us = 0.5 - abs(u)
            let k = floor((2 * a / us + b) * u + mean + 0.43)
            if us >= 0.07 && v <= vr { return Int(k) }
            if k < 0 || (us < 0.013 && v > us) { continue }
            if log(v) + log(invAlpha) - log(a / (us * us) + b) <= -mean + k * logLam - lgamma(k + 1) {
                return Int(k)
            }
        }
    }

    /// Gamma(shape, scale), Marsaglia and Tsang (2000).
    public mutating func gamma(shape: Double, scale: Double) -> Double {
        if shape < 1 {
            return gamma(shape: shape + 1, scale: scale) * pow(max(uniform(), 1e-300), 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat { x = normal(); v = 1 + c * x } while v <= 0
            v = v * v * v
            let u = uniform()
            if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v * scale }
        }
    }

    /// Negative binomial with the given mean and size (dispersion) k: variance mean + mean^2/k.
    public mutating func negativeBinomial(mean: Double, size: Double) -> Int {
        guard mean > 0 else { return 0 }
        return poisson(gamma(shape: size, scale: mean / size))
    }

    /// Binomial(n, p): by waiting times when n*p is small, else a normal approximation.
    public mutating func binomial(_ n: Int, _ p: Double) -> Int {
        guard n > 0, p > 0 else { return 0 }
        if p >= 1 { return n }
        if p > 0.5 { return n - binomial(n, 1 - p) }
        let mean = Double(n) * p
        if mean < 50 {
            var successes = 0, position = 0
            let logQ = log(1 - p)
            while true {
                position += Int(log(max(uniform(), 1e-300)) / logQ) + 1
                if position > n { return successes }
                successes += 1
            }
        }
        let draw = normal(mean: mean, sd: (mean * (1 - p)).squareRoot()).rounded()
        return min(n, max(0, Int(draw)))
    }

    /// An index drawn with probability proportional to `cumulative` increments (sorted running sums).
    public mutating func pick(cumulative: [Double]) -> Int {
        let target = uniform() * cumulative.last!
        var low = 0, high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
