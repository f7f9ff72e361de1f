import Foundation

/// Distribution functions the calls need: regularized incomplete gamma (Poisson tails and exact
/// Poisson intervals), negative binomial probabilities (PCR yield per template) and their inverses.
public enum Statistics {
    /// ln Γ(x) for x > 0.
    public static func logGamma(_ x: Double) -> Double { lgamma(x) }

    /// Regularized lower incomplete gamma P(a, x) (series below a + 1, continued fraction above).
    public static func regularizedGammaP(_ a: Double, _ x: Double) -> Double {
        precondition(a > 0)
        if x <= 0 { return 0 }
        if x < a + 1 {
            var sum = 1 / a, term = sum, n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-16 { break }
            }
            return min(1, sum * exp(-x + a * log(x) - logGamma(a)))
        }
        return max(0, 1 - regularizedGammaQContinuedFraction(a, x))
    }

    /// The upper tail of chi-square with `degreesOfFreedom`: Q(df/2, x/2), exact in the far tail.
    public static func chiSquareUpperTail(_ x: Double, degreesOfFreedom: Int) -> Double {
        let a = Double(degreesOfFreedom) / 2, half = x / 2
        if half <= 0 { return 1 }
        return half < a + 1 ? 1 - regularizedGammaP(a, half) : min(1, regularizedGammaQContinuedFraction(a, half))
    }

    /// Two-sided p of a standard normal statistic: P(|Z| >= |z|).
    public static func twoSidedNormalP(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    /// Q(a, x) = 1 - P(a, x) by Lentz's continued fraction (x >= a + 1).
    private static func regularizedGammaQContinuedFraction(_ a: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-16 { break }
        }
        return exp(-x + a * log(x) - logGamma(a)) * h
    }

    /// The x with P(a, x) = p (bisection on a bracket, then to full precision).
    public static func inverseRegularizedGammaP(_ a: Double, _ p: Double) -> Double {
        precondition(a > 0 && p > 0 && p < 1)
        var low = 0.0, high = max(1.0, a)
        while regularizedGammaP(a, high) < p { high *= 2 }
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if regularizedGammaP(a, mid) < p { low = mid } else { high = mid }
            if high - low <= 1e-12 * max(1, high) { break }
        }
        return (low + high) / 2
    }

    /// Exact (Garwood) two-sided interval for a Poisson mean given `count` events, extended to
    /// non-integer counts through the gamma distribution. The lower bound is 0 for a count of 0.
    public static func poissonInterval(_ count: Double, confidence: Double = 0.95) -> (low: Double, high: Double) {
        let alpha = 1 - confidence
        let low = count > 0 ? inverseRegularizedGammaP(count, alpha / 2) : 0
        let high = inverseRegularizedGammaP(count + 1, 1 - alpha / 2)
        return (low, high)
    }

    /// P(X = x) for X ~ Poisson(mean).
    public static func poissonProbability(_ x: Int, mean: Double) -> Double {
        if mean == 0 { return x == 0 ? 1 : 0 }
        return exp(Double(x) * log(mean) - mean - logGamma(Double(x) + 1))
    }

    /// P(X < x) for X ~ negative binomial with the given mean and size (x >= 0).
    public static func negativeBinomialBelow(_ x: Int, mean: Double, size: Double) -> Double {
        if x <= 0 { return 0 }
        if mean <= 0 { return 1 }
        let p = size / (size + mean)
        var total = 0.0
        var logTerm = size * log(p)  // P(0)
        for k in 0..<x {
            if k > 0 { logTerm += log(Double(k - 1) + size) - log(Double(k)) + log(1 - p) }
            total += exp(logTerm)
        }
        return min(1, total)
    }

    /// Wilson score interval for a binomial proportion.
    public static func wilsonInterval(successes: Int, trials: Int, z: Double = 1.959963984540054) -> (low: Double, high: Double) {
        guard trials > 0 else { return (0, 1) }
        let n = Double(trials), p = Double(successes) / n
        let denominator = 1 + z * z / n
        let centre = (p + z * z / (2 * n)) / denominator
        let half = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
        return (max(0, centre - half), min(1, centre + half))
    }
}
