import Foundation

/// One subject's follow-up: time to event or censoring, and whether the event happened.
public struct SurvivalRecord: Sendable, Equatable {
    public var time: Double
    public var event: Bool
    public init(time: Double, event: Bool) {
        self.time = time
        self.event = event
    }
}

/// The Kaplan-Meier estimator with Greenwood's variance and log-log ("exponential Greenwood")
/// 95% intervals, computed as survival packages do: at a time with both events and censorings,
/// the censored subjects are still at risk for those events.
public struct KaplanMeier: Sendable {
    public struct Step: Sendable, Equatable {
        public var time: Double
        /// At risk just before `time`.
        public var atRisk: Int
        public var events: Int
        public var censored: Int
        public var survival: Double
        public var ciLow: Double
        public var ciHigh: Double
    }

    /// Time 0 first, then one step per distinct time with an event or a censoring.
    public let steps: [Step]

    public init(_ records: [SurvivalRecord], confidence: Double = 0.95) {
        let z = Self.normalQuantile(1 - (1 - confidence) / 2)
        var steps = [Step(time: 0, atRisk: records.count, events: 0, censored: 0, survival: 1, ciLow: 1, ciHigh: 1)]
        let sorted = records.sorted { $0.time < $1.time }
        var atRisk = records.count
        var survival = 1.0, greenwood = 0.0
        var i = 0
        while i < sorted.count {
            let time = sorted[i].time
            var events = 0, censored = 0
            while i < sorted.count && sorted[i].time == time {
                if sorted[i].event { events += 1 } else { censored += 1 }
                i += 1
            }
            if events > 0 {
                survival *= 1 - Double(events) / Double(atRisk)
                if atRisk > events { greenwood += Double(events) / (Double(atRisk) * Double(atRisk - events)) }
            }
            var low = survival, high = survival
            if survival > 0 && survival < 1 {
                let logS = log(survival)
                let se = sqrt(greenwood) / abs(logS)
                low = pow(survival, exp(z * se))
                high = pow(survival, exp(-z * se))
            } else if survival == 0 {
                low = 0
                high = 0
            }
            steps.append(Step(time: time, atRisk: atRisk, events: events, censored: censored, survival: survival, ciLow: low, ciHigh: high))
            atRisk -= events + censored
        }
        self.steps = steps
    }

    /// The estimate at `time` (the last step at or before it).
    public func at(_ time: Double) -> Step {
        steps.last { $0.time <= time } ?? steps[0]
    }

    /// The standard normal quantile (Acklam's rational approximation, refined by one Newton step).
    static func normalQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = sqrt(-2 * log(p))
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - 0.02425 {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = sqrt(-2 * log(1 - p))
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        return x - u / (1 + x * u / 2)
    }
}

/// The two-group log-rank test (chi-square with one degree of freedom).
public enum LogRank {
    public static func test(_ a: [SurvivalRecord], _ b: [SurvivalRecord]) -> (chiSquare: Double, p: Double)? {
        let all = (a.map { ($0, 0) } + b.map { ($0, 1) }).sorted { $0.0.time < $1.0.time }
        var atRisk = [a.count, b.count]
        var observedMinusExpected = 0.0, variance = 0.0
        var i = 0
        while i < all.count {
            let time = all[i].0.time
            var events = [0, 0], leaving = [0, 0]
            while i < all.count && all[i].0.time == time {
                if all[i].0.event { events[all[i].1] += 1 }
                leaving[all[i].1] += 1
                i += 1
            }
            let d = Double(events[0] + events[1]), n = Double(atRisk[0] + atRisk[1])
            if d > 0 && n > 0 {
                let share = Double(atRisk[0]) / n
                observedMinusExpected += Double(events[0]) - d * share
                if n > 1 { variance += d * share * (1 - share) * (n - d) / (n - 1) }
            }
            atRisk[0] -= leaving[0]
            atRisk[1] -= leaving[1]
        }
        guard variance > 0 else { return nil }
        let chiSquare = observedMinusExpected * observedMinusExpected / variance
        // Upper tail of chi-square(1) = Q(1/2, x/2).
        let p = 1 - Statistics.regularizedGammaP(0.5, chiSquare / 2)
        return (chiSquare, p)
    }
}
