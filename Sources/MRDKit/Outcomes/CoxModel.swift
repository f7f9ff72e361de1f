import Foundation

/// A Cox proportional-hazards fit by Newton-Raphson on the partial likelihood with Efron's
/// handling of tied event times (as R survival and lifelines), Wald intervals and p-values, and
/// the proportional-hazards test of each term as lifelines' `proportional_hazard_test` computes it
/// (scaled Schoenfeld residuals against a transform of time, chi-square with 1 df).
public struct CoxModel: Sendable {
    public struct Term: Sendable, Equatable {
        public var name: String
        public var coefficient: Double
        public var standardError: Double
        public var hazardRatio: Double { exp(coefficient) }
        public var ciLow: Double, ciHigh: Double
        public var p: Double
        /// The proportional-hazards test of this term (nil when it cannot be computed).
        public var proportionalHazardsP: Double?
    }

    /// Why a model has no estimates.
    public enum FitError: Error, Equatable, CustomStringConvertible, Sendable {
        case noEvents
        case constantTerm(String)
        case monotoneLikelihood([String])
        case collinear
        case noConvergence

        public var description: String {
            switch self {
            case .noEvents: return "no relapse or death after this landmark: a hazard ratio needs events"
            case .constantTerm(let name): return "every patient has the same \(name): its effect cannot be estimated"
            case .monotoneLikelihood(let names):
                return "separation: \(names.joined(separator: ", ")) splits the patients so that one side has no events; the hazard ratio is unbounded"
            case .collinear: return "the terms are collinear (one is determined by the others): no unique estimate"
            case .noConvergence: return "the fit did not converge"
            }
        }
    }

    public let terms: [Term]
    public let logLikelihood: Double
    public let iterations: Int

    /// Where Newton-Raphson stops: where lifelines' CoxPHFitter stops (the default: the figures
    /// studies compare with), or at the exact maximum (R's coxph with a tight tolerance).
    public enum Convergence: Sendable { case lifelines, exact }

    /// Which time transform the proportional-hazards test correlates the residuals with (lifelines'
    /// names; `rank`, lifelines' default, is the default here; R's cox.zph defaults to `km`).
    public enum TimeTransform: String, Sendable { case km, rank, identity, log }

    /// `covariates[i]` is subject i's row (one value per term name).
    public init(times: [Double], events: [Bool], covariates: [[Double]], names: [String],
                confidence: Double = 0.95, timeTransform: TimeTransform = .rank, convergence: Convergence = .lifelines) throws {
        let n = times.count, p = names.count
        precondition(events.count == n && covariates.count == n && covariates.allSatisfy { $0.count == p })
        guard events.contains(true) else { throw FitError.noEvents }
        for j in 0..<p where Set(covariates.map { $0[j] }).count < 2 { throw FitError.constantTerm(names[j]) }
        // lifelines' order (time, then censored before events, then input order): it decides which
        // tied event gets which rank in the proportional-hazards test.
        let order = (0..<n).sorted { (times[$0], events[$0] ? 1 : 0, $0) < (times[$1], events[$1] ? 1 : 0, $1) }
        let data = CoxData(times: order.map { times[$0] }, events: order.map { events[$0] }, x: order.map { covariates[$0] })
        let fit: (beta: [Double], information: [[Double]], logLikelihood: Double, iterations: Int)
        switch convergence {
        case .lifelines: fit = try Self.fitAsLifelines(data, names: names)
        case .exact: fit = try Self.fitExactly(data, names: names)
        }
        let beta = fit.beta
        guard let variance = Matrix.inverse(fit.information) else { throw FitError.collinear }
        let z = KaplanMeier.normalQuantile(1 - (1 - confidence) / 2)
        let phP = data.proportionalHazardsP(beta: beta, variance: variance, transform: timeTransform)
        terms = (0..<p).map { j in
            let se = variance[j][j].squareRoot()
            let wald = beta[j] / se
            return Term(name: names[j], coefficient: beta[j], standardError: se, ciLow: exp(beta[j] - z * se), ciHigh: exp(beta[j] + z * se),
                        p: Statistics.twoSidedNormalP(wald), proportionalHazardsP: phP?[j])
        }
        logLikelihood = fit.logLikelihood
        self.iterations = fit.iterations
    }

    /// Newton-Raphson from 0 with step halving, to a step below 1e-10: the maximum of the partial
    /// likelihood to machine precision (R's coxph with a tight eps gives the same).
    static func fitExactly(_ data: CoxData, names: [String]) throws -> (beta: [Double], information: [[Double]], logLikelihood: Double, iterations: Int) {
        var beta = [Double](repeating: 0, count: names.count)
        var current = data.evaluate(beta)
        for iteration in 1...100 {
            guard let inverse = Matrix.inverse(current.information) else { throw diagnose(data, names: names, fallback: .collinear) }
            let step = inverse.map { row in zip(row, current.gradient).reduce(0) { $0 + $1.0 * $1.1 } }
            var scale = 1.0, candidate = beta, next = current
            repeat {
                candidate = zip(beta, step).map { $0 + scale * $1 }
                next = data.evaluate(candidate)
                scale /= 2
            } while (!next.logLikelihood.isFinite || next.logLikelihood < current.logLikelihood - 1e-12) && scale > 1e-6
            let change = abs(next.logLikelihood - current.logLikelihood)
            let stepSize = zip(beta, candidate).map { abs($0 - $1) }.max() ?? 0
            beta = candidate
            current = next
            if beta.contains(where: { abs($0) > 30 }) { throw diagnose(data, names: names, fallback: .noConvergence) }
            if stepSize < 1e-10 || (change < 1e-13 * max(1, abs(current.logLikelihood)) && stepSize < 1e-7) {
                return (beta, current.information, current.logLikelihood, iteration)
            }
        }
        throw diagnose(data, names: names, fallback: .noConvergence)
    }

    /// lifelines' CoxPHFitter path, step for step: covariates centred and scaled by their sample
    /// standard deviation, Newton steps damped by its step sizer (0.95, raised to 1 after three
    /// shrinking steps, cut after large ones), stopped at its criteria (step norm < 1e-7, relative
    /// log-likelihood change < 1e-9, or Newton decrement < 1e-7), keeping the point where the last
    /// step was computed. lifelines stops up to about 1e-4 of a standard error short of the exact
    /// maximum; matching its path makes the figures equal to what studies compute with it.
    static func fitAsLifelines(_ data: CoxData, names: [String]) throws -> (beta: [Double], information: [[Double]], logLikelihood: Double, iterations: Int) {
        let p = names.count, n = Double(data.x.count)
        let mean = (0..<p).map { j in data.x.reduce(0) { $0 + $1[j] } / n }
        let sd = (0..<p).map { j in (data.x.reduce(0) { $0 + ($1[j] - mean[j]) * ($1[j] - mean[j]) } / (n - 1)).squareRoot() }
        var scaled = data
        scaled.x = data.x.map { row in (0..<p).map { (row[$0] - mean[$0]) / sd[$0] } }
        var beta = [Double](repeating: 0, count: p), delta = beta
        var stepSize = 0.95, temperBackUp = false
        var norms: [Double] = []
        var previousLogLikelihood = 0.0
        var iteration = 0
        while true {
            beta = zip(beta, delta).map { $0 + stepSize * $1 }
            iteration += 1
            let current = scaled.evaluate(beta)
            guard current.logLikelihood.isFinite, let inverse = Matrix.inverse(current.information) else {
                throw diagnose(data, names: names, fallback: .collinear)
            }
            delta = inverse.map { row in zip(row, current.gradient).reduce(0) { $0 + $1.0 * $1.1 } }
            let norm = delta.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let decrement = zip(current.gradient, delta).reduce(0) { $0 + $1.0 * $1.1 } / 2
            var done = false
            if norm < 1e-7 || (previousLogLikelihood != 0 && abs(current.logLikelihood - previousLogLikelihood) / -previousLogLikelihood < 1e-9)
                || decrement < 1e-7 {
                done = true
            } else if iteration >= 500 || stepSize <= 0.00001 || (abs(current.logLikelihood) < 0.0001 && norm > 1) {
                throw diagnose(data, names: names, fallback: .noConvergence)
            }
            if done {
                if beta.enumerated().contains(where: { abs($0.element / sd[$0.offset]) > 30 }) || norm > 0.1 {
                    throw diagnose(data, names: names, fallback: .noConvergence)
                }
                let original = (0..<p).map { beta[$0] / sd[$0] }
                let information = (0..<p).map { a in (0..<p).map { b in current.information[a][b] * sd[a] * sd[b] } }
                return (original, information, current.logLikelihood, iteration)
            }
            previousLogLikelihood = current.logLikelihood
            // lifelines' StepSizer.update.
            norms.append(norm)
            if temperBackUp { stepSize = min(stepSize * 1.3, 0.95) }
            if norm >= 15 { stepSize *= 0.1; temperBackUp = true } else if norm > 5 { stepSize *= 0.25; temperBackUp = true }
            if norms.count >= 3 {
                let last = norms.suffix(3)
                let decreasing = zip(last.dropLast(), last.dropFirst()).allSatisfy { $1 - $0 < 0 }
                if decreasing { stepSize = min(stepSize * 1.3, 1.0) } else { stepSize *= 0.98 }
            }
        }
    }

    /// A diverging fit: names the terms whose one side (value 0 or 1) has no events, if any.
    static func diagnose(_ data: CoxData, names: [String], fallback: FitError) -> FitError {
        var separating: [String] = []
        for j in names.indices {
            let values = Set(data.x.map { $0[j] })
            guard values.count == 2 else { continue }
            for value in values where !zip(data.x, data.events).contains(where: { $0.0[j] == value && $0.1 }) {
                separating.append(names[j])
                break
            }
        }
        return separating.isEmpty ? fallback : .monotoneLikelihood(separating)
    }
}

/// The subjects sorted by time, and the Efron partial likelihood with its derivatives.
struct CoxData {
    var times: [Double], events: [Bool], x: [[Double]]

    struct Evaluation {
        var logLikelihood: Double
        var gradient: [Double]
        /// Minus the Hessian.
        var information: [[Double]]
    }

    /// Distinct event times as index ranges: `start..<end` the subjects with that time (sorted),
    /// the risk set being `start..<n`.
    var tiedBlocks: [Range<Int>] {
        var blocks: [Range<Int>] = []
        var i = 0
        while i < times.count {
            var j = i
            while j < times.count && times[j] == times[i] { j += 1 }
            blocks.append(i..<j)
            i = j
        }
        return blocks
    }

    func evaluate(_ beta: [Double]) -> Evaluation {
        let n = times.count, p = beta.count
        // Centre the linear predictor for numerical range; the likelihood is unchanged.
        let eta = x.map { row in zip(row, beta).reduce(0) { $0 + $1.0 * $1.1 } }
        let shift = eta.max() ?? 0
        let risk = eta.map { exp($0 - shift) }
        var logLikelihood = 0.0
        var gradient = [Double](repeating: 0, count: p)
        var information = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        // Risk-set sums accumulated from the last subject backwards.
        var s0 = 0.0
        var s1 = [Double](repeating: 0, count: p)
        var s2 = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
        for block in tiedBlocks.reversed() {
            var d0 = 0.0
            var d1 = [Double](repeating: 0, count: p)
            var d2 = [[Double]](repeating: [Double](repeating: 0, count: p), count: p)
            var deaths = 0
            for i in block {
                s0 += risk[i]
                for a in 0..<p {
                    s1[a] += risk[i] * x[i][a]
                    for b in 0...a { s2[a][b] += risk[i] * x[i][a] * x[i][b] }
                }
                guard events[i] else { continue }
                deaths += 1
                d0 += risk[i]
                logLikelihood += eta[i] - shift
                for a in 0..<p {
                    d1[a] += risk[i] * x[i][a]
                    gradient[a] += x[i][a]
                    for b in 0...a { d2[a][b] += risk[i] * x[i][a] * x[i][b] }
                }
            }
            guard deaths > 0 else { continue }
            for l in 0..<deaths {
                let fraction = Double(l) / Double(deaths)
                let phi = s0 - fraction * d0
                logLikelihood -= log(phi)
                var mean = [Double](repeating: 0, count: p)
                for a in 0..<p {
                    mean[a] = (s1[a] - fraction * d1[a]) / phi
                    gradient[a] -= mean[a]
                }
                for a in 0..<p {
                    for b in 0...a {
                        information[a][b] += (s2[a][b] - fraction * d2[a][b]) / phi - mean[a] * mean[b]
                    }
                }
            }
        }
        for a in 0..<p { for b in 0..<a { information[b][a] = information[a][b] } }
        _ = n
        return Evaluation(logLikelihood: logLikelihood, gradient: gradient, information: information)
    }

    /// Schoenfeld residuals of the subjects with events (in time order), with Efron's weighting of
    /// ties: each tied event's residual is its covariates minus the mean of the Efron-adjusted risk
    /// sets averaged over the tie.
    func schoenfeld(_ beta: [Double]) -> (times: [Double], residuals: [[Double]]) {
        let p = beta.count
        let eta = x.map { row in zip(row, beta).reduce(0) { $0 + $1.0 * $1.1 } }
        let shift = eta.max() ?? 0
        let risk = eta.map { exp($0 - shift) }
        var s0 = 0.0
        var s1 = [Double](repeating: 0, count: p)
        var out: [(Double, [Double])] = []
        for block in tiedBlocks.reversed() {
            var d0 = 0.0
            var d1 = [Double](repeating: 0, count: p)
            var deaths: [Int] = []
            for i in block {
                s0 += risk[i]
                for a in 0..<p { s1[a] += risk[i] * x[i][a] }
                if events[i] {
                    deaths.append(i)
                    d0 += risk[i]
                    for a in 0..<p { d1[a] += risk[i] * x[i][a] }
                }
            }
            guard !deaths.isEmpty else { continue }
            var mean = [Double](repeating: 0, count: p)
            let m = Double(deaths.count)
            for l in 0..<deaths.count {
                let fraction = Double(l) / m
                let phi = s0 - fraction * d0
                for a in 0..<p { mean[a] += (s1[a] - fraction * d1[a]) / phi / m }
            }
            for i in deaths.reversed() { out.append((times[i], (0..<p).map { x[i][$0] - mean[$0] })) }
        }
        out.reverse()
        return (out.map(\.0), out.map(\.1))
    }

    /// lifelines' proportional_hazard_test: scaled residuals r* = D r V + beta, per term
    /// T = (sum (g - mean g) r*)^2 / (D var(beta) sum (g - mean g)^2), chi-square(1).
    func proportionalHazardsP(beta: [Double], variance: [[Double]], transform: CoxModel.TimeTransform) -> [Double?]? {
        let p = beta.count
        let (eventTimes, residuals) = schoenfeld(beta)
        let deaths = Double(eventTimes.count)
        guard deaths >= 2 else { return nil }
        let g: [Double]
        switch transform {
        case .identity: g = eventTimes
        case .log: g = eventTimes.map { log($0) }
        case .rank:
            // lifelines' rank: the running count of events in time order (tied events numbered in turn).
            g = (1...eventTimes.count).map(Double.init)
        case .km:
            let curve = KaplanMeier(zip(times, events).map { SurvivalRecord(time: $0.0, event: $0.1) })
            g = eventTimes.map { 1 - curve.at($0).survival }
        }
        let meanG = g.reduce(0, +) / deaths
        let centred = g.map { $0 - meanG }
        let sumSquares = centred.reduce(0) { $0 + $1 * $1 }
        guard sumSquares > 0 else { return nil }
        return (0..<p).map { j in
            var numerator = 0.0
            for (k, r) in residuals.enumerated() {
                var scaled = beta[j]
                for a in 0..<p { scaled += deaths * r[a] * variance[a][j] }
                numerator += centred[k] * scaled
            }
            let statistic = numerator * numerator / (deaths * variance[j][j] * sumSquares)
            guard statistic.isFinite else { return nil }
            return Statistics.chiSquareUpperTail(statistic, degreesOfFreedom: 1)
        }
    }
}
