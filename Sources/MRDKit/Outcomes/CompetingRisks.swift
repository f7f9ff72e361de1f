import Foundation

/// One subject's follow-up with competing events: censored, the event of interest (relapse), or
/// the competing event (death in remission).
public struct CompetingRisksRecord: Sendable, Equatable {
    public enum Outcome: Int, Sendable { case censored = 0, relapse = 1, death = 2 }
    public var time: Double
    public var outcome: Outcome
    public init(time: Double, outcome: Outcome) {
        self.time = time
        self.outcome = outcome
    }
}

/// Cumulative incidence functions of relapse and of death in remission (the Aalen-Johansen
/// estimator: the overall Kaplan-Meier just before each time times that time's cause-specific
/// hazard), with the variance that R cmprsk's `cuminc` reports (Gray's delta-method estimator, tied
/// events corrected as there) and 95% intervals on the log(-log) scale.
///
/// 1 - Kaplan-Meier of relapse alone would count patients who died in remission as if they could
/// still relapse, and so overstates relapse whenever deaths compete.
public struct CumulativeIncidence: Sendable {
    public struct Step: Sendable, Equatable {
        public var time: Double
        /// At risk just before `time`.
        public var atRisk: Int
        public var relapses: Int, deaths: Int, censored: Int
        public var relapse: Double, death: Double
        public var relapseVariance: Double, deathVariance: Double
        public var relapseCILow: Double, relapseCIHigh: Double
    }

    /// Time 0 first, then one step per distinct time with an event or a censoring.
    public let steps: [Step]

    public init(_ records: [CompetingRisksRecord], confidence: Double = 0.95) {
        let z = KaplanMeier.normalQuantile(1 - (1 - confidence) / 2)
        var steps = [Step(time: 0, atRisk: records.count, relapses: 0, deaths: 0, censored: 0, relapse: 0, death: 0,
                          relapseVariance: 0, deathVariance: 0, relapseCILow: 0, relapseCIHigh: 0)]
        let sorted = records.sorted { $0.time < $1.time }
        var survival = 1.0  // overall Kaplan-Meier just before the current time
        var incidence = [0.0, 0.0]
        var variance = [0.0, 0.0]
        // Per cause, the three running sums of the delta-method variance (cmprsk's v1, v2, v3).
        var sums = [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
        var atRisk = records.count
        var i = 0
        while i < sorted.count {
            let time = sorted[i].time
            var counts = [0, 0, 0]
            while i < sorted.count && sorted[i].time == time {
                counts[sorted[i].outcome.rawValue] += 1
                i += 1
            }
            let events = counts[1] + counts[2]
            if events > 0 {
                let n = Double(atRisk)
                let survivalAfter = survival * (n - Double(events)) / n
                for cause in 0..<2 where counts[cause + 1] > 0 {
                    incidence[cause] += survival * Double(counts[cause + 1]) / n
                }
                for cause in 0..<2 {
                    let own = counts[cause + 1], other = counts[2 - cause]
                    // Contribution of the other cause's events, then of this cause's own.
                    if other > 0 && survivalAfter > 0 {
                        let tieFactor = other > 1 ? 1 - Double(other - 1) / (n - 1) : 1
                        let weight = survival * survival * tieFactor * Double(other) / (n * n)
                        let inverse = 1 / survivalAfter, scaled = incidence[cause] / survivalAfter
                        sums[cause][0] += scaled * scaled * weight
                        sums[cause][1] += inverse * scaled * weight
                        sums[cause][2] += inverse * inverse * weight
                    }
                    if own > 0 {
                        let tieFactor = own > 1 ? 1 - Double(own - 1) / (n - 1) : 1
                        let weight = survival * survival * tieFactor * Double(own) / (n * n)
                        let inverse = survivalAfter > 0 ? 1 / survivalAfter : 0
                        let term = 1 + inverse * incidence[cause]
                        sums[cause][0] += term * term * weight
                        sums[cause][1] += inverse * term * weight
                        sums[cause][2] += inverse * inverse * weight
                        let f = incidence[cause]
                        variance[cause] = sums[cause][0] + f * f * sums[cause][2] - 2 * f * sums[cause][1]
                    }
                }
                survival = survivalAfter
            }
            let interval = Self.logLogInterval(incidence[0], variance: variance[0], z: z)
            steps.append(Step(time: time, atRisk: atRisk, relapses: counts[1], deaths: counts[2], censored: counts[0],
                              relapse: incidence[0], death: incidence[1], relapseVariance: variance[0], deathVariance: variance[1],
                              relapseCILow: interval.low, relapseCIHigh: interval.high))
            atRisk -= counts[0] + counts[1] + counts[2]
        }
        self.steps = steps
    }

    /// The estimate at `time` (the last step at or before it).
    public func at(_ time: Double) -> Step {
        steps.last { $0.time <= time } ?? steps[0]
    }

    /// F^exp(+-z se / (F log F)): the interval of log(-log F) mapped back, inside (0, 1).
    static func logLogInterval(_ f: Double, variance: Double, z: Double) -> (low: Double, high: Double) {
        guard f > 0 && f < 1 && variance > 0 else { return (f, f) }
        let se = variance.squareRoot() / (f * abs(log(f)))
        return (pow(f, exp(z * se)), pow(f, exp(-z * se)))
    }
}

/// Gray's K-sample test of equal cumulative incidence of one cause (Gray 1988, Ann Stat 16:1141),
/// with weight (1 - F)^rho, rho = 0 as R cmprsk's default: the score of each group but the last and
/// its variance; statistic s' V^-1 s, chi-square with K - 1 degrees of freedom.
public enum GrayTest {
    /// `groups`: the subjects of each group (two or more). nil when the statistic is undefined
    /// (no event of the cause, a group empty, or a singular variance).
    public static func test(_ groups: [[CompetingRisksRecord]], cause: CompetingRisksRecord.Outcome = .relapse,
                            rho: Double = 0) -> (chiSquare: Double, p: Double, degreesOfFreedom: Int)? {
        let k = groups.count
        guard k >= 2, groups.allSatisfy({ !$0.isEmpty }) else { return nil }
        // 1 = the cause of interest, 2 = any other event, 0 = censored.
        let all = groups.enumerated().flatMap { g, records in
            records.map { (time: $0.time, code: $0.outcome == .censored ? 0 : ($0.outcome == cause ? 1 : 2), group: g) }
        }.sorted { $0.time < $1.time }
        guard all.contains(where: { $0.code == 1 }) else { return nil }
        var atRisk = groups.map(\.count)
        var incidenceBefore = [Double](repeating: 0, count: k), incidence = incidenceBefore
        var survivalBefore = [Double](repeating: 1, count: k), survival = survivalBefore
        var pooledBefore = 0.0, pooled = 0.0
        var score = [Double](repeating: 0, count: k - 1)
        var v = [[Double]](repeating: [Double](repeating: 0, count: k - 1), count: k - 1)
        var v2 = [[Double]](repeating: [Double](repeating: 0, count: k), count: k - 1)
        var v3 = [Double](repeating: 0, count: k)
        var c = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        var a = c
        var i = 0
        while i < all.count {
            let time = all[i].time
            var d = [[Int]](repeating: [Int](repeating: 0, count: k), count: 3)
            var leaving = [Int](repeating: 0, count: k)
            while i < all.count && all[i].time == time {
                d[all[i].code][all[i].group] += 1
                leaving[all[i].group] += 1
                i += 1
            }
            let causeEvents = d[1].reduce(0, +), otherEvents = d[2].reduce(0, +)
            if causeEvents + otherEvents > 0 {
                var weightedAtRisk = 0.0, weightedFree = 0.0  // sum of h_r, sum of R_r in Gray's notation
                for g in 0..<k where atRisk[g] > 0 {
                    let n = Double(atRisk[g])
                    survival[g] = survivalBefore[g] * (n - Double(d[1][g] + d[2][g])) / n
                    incidence[g] = incidenceBefore[g] + survivalBefore[g] * Double(d[1][g]) / n
                    weightedAtRisk += n / survivalBefore[g]
                    weightedFree += n * (1 - incidenceBefore[g]) / survivalBefore[g]
                }
                let m1 = Double(causeEvents)
                pooled = pooledBefore + m1 / weightedAtRisk
                let weight = pow(1 - pooledBefore, rho)
                for g in 0..<k {
                    for h in g..<k { a[g][h] = 0 }
                    guard atRisk[g] > 0 else { continue }
                    let t1 = Double(atRisk[g]) / survivalBefore[g]
                    a[g][g] = weight * t1 * (1 - t1 / weightedAtRisk)
                    c[g][g] += a[g][g] * m1 / (weightedAtRisk * (1 - pooledBefore))
                    for h in (g + 1)..<max(k, g + 1) where atRisk[h] > 0 {
                        a[g][h] = -weight * t1 * Double(atRisk[h]) / (survivalBefore[h] * weightedAtRisk)
                        c[g][h] += a[g][h] * m1 / (weightedAtRisk * (1 - pooledBefore))
                    }
                }
                for g in 1..<k {
                    for h in 0..<g {
                        a[g][h] = a[h][g]
                        c[g][h] = c[h][g]
                    }
                }
                for g in 0..<(k - 1) where atRisk[g] > 0 {
                    score[g] += weight * (Double(d[1][g]) - m1 * Double(atRisk[g]) * (1 - incidenceBefore[g]) / (survivalBefore[g] * weightedFree))
                }
                if causeEvents > 0 {
                    for h in 0..<k where atRisk[h] > 0 {
                        let t4 = survival[h] > 0 ? 1 - (1 - pooled) / survival[h] : 1
                        let t5 = causeEvents > 1 ? 1 - (m1 - 1) / (weightedAtRisk * survivalBefore[h] - 1) : 1
                        let t3 = t5 * survivalBefore[h] * m1 / (weightedAtRisk * Double(atRisk[h]))
                        v3[h] += t4 * t4 * t3
                        for g in 0..<(k - 1) {
                            let t1 = a[g][h] - t4 * c[g][h]
                            v2[g][h] += t1 * t4 * t3
                            for j in 0...g { v[g][j] += t1 * (a[j][h] - t4 * c[j][h]) * t3 }
                        }
                    }
                }
                if otherEvents > 0 {
                    for h in 0..<k where survival[h] > 0 && d[2][h] > 0 {
                        let t4 = (1 - pooled) / survival[h]
                        let n = Double(atRisk[h]), other = Double(d[2][h])
                        let t5 = d[2][h] > 1 ? 1 - (other - 1) / (n - 1) : 1
                        let t3 = t5 * survivalBefore[h] * survivalBefore[h] * other / (n * n)
                        v3[h] += t4 * t4 * t3
                        for g in 0..<(k - 1) {
                            let t1 = t4 * c[g][h]
                            v2[g][h] -= t1 * t4 * t3
                            for j in 0...g { v[g][j] += t1 * (t4 * c[j][h]) * t3 }
                        }
                    }
                }
            }
            for g in 0..<k { atRisk[g] -= leaving[g] }
            pooledBefore = pooled
            incidenceBefore = incidence
            survivalBefore = survival
        }
        for g in 0..<(k - 1) {
            for j in 0...g {
                for h in 0..<k { v[g][j] += c[g][h] * c[j][h] * v3[h] + c[g][h] * v2[j][h] + c[j][h] * v2[g][h] }
                v[j][g] = v[g][j]
            }
        }
        guard let solved = Matrix.solve(v, score) else { return nil }
        let chiSquare = zip(score, solved).reduce(0) { $0 + $1.0 * $1.1 }
        guard chiSquare.isFinite, chiSquare >= 0 else { return nil }
        let p = Statistics.chiSquareUpperTail(chiSquare, degreesOfFreedom: k - 1)
        return (chiSquare, p, k - 1)
    }
}

/// Small dense linear algebra for the outcome models (a handful of terms).
enum Matrix {
    /// x with A x = b by Gaussian elimination with partial pivoting; nil when A is singular
    /// (a pivot below 1e-12 of the largest entry).
    static func solve(_ a: [[Double]], _ b: [Double]) -> [Double]? {
        guard let inverse = inverse(a) else { return nil }
        return inverse.map { row in zip(row, b).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    /// The inverse by Gauss-Jordan elimination with partial pivoting; nil when singular.
    static func inverse(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        guard n > 0 else { return [] }
        let scale = a.flatMap { $0 }.map(abs).max() ?? 0
        guard scale > 0 else { return nil }
        var m = a.enumerated().map { i, row in row + (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for column in 0..<n {
            let pivot = (column..<n).max { abs(m[$0][column]) < abs(m[$1][column]) }!
            guard abs(m[pivot][column]) > 1e-12 * scale else { return nil }
            m.swapAt(column, pivot)
            let p = m[column][column]
            for j in 0..<(2 * n) { m[column][j] /= p }
            for row in 0..<n where row != column {
                let factor = m[row][column]
                if factor != 0 { for j in 0..<(2 * n) { m[row][j] -= factor * m[column][j] } }
            }
        }
        return m.map { Array($0[n...]) }
    }
}
