import Foundation
import Testing
@testable import MRDKit

/// Runs a reference program and returns its standard output (nil, with the error text, when it fails).
private func reference(_ executable: URL, _ arguments: [String]) throws -> (output: String, error: String, status: Int32) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errorData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (String(decoding: data, as: UTF8.self), String(decoding: errorData, as: UTF8.self), process.terminationStatus)
}

private func scratch() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-outcomes-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// Two groups of competing-risks data: hand-made ones with tied events of both causes, censorings
/// at event times, an event at the first and at the last time; and random ones in whole days
/// (many ties) with early events and heavy censoring.
private func competingSets() -> [[[CompetingRisksRecord]]] {
    func records(_ items: [(Double, Int)]) -> [CompetingRisksRecord] {
        items.map { CompetingRisksRecord(time: $0.0, outcome: CompetingRisksRecord.Outcome(rawValue: $0.1)!) }
    }
    var sets: [[[CompetingRisksRecord]]] = [
        [records([(1, 1), (3, 1), (3, 2), (3, 0), (5, 1), (5, 1), (7, 2), (8, 0), (10, 1), (12, 0), (12, 2)]),
         records([(2, 2), (3, 1), (4, 0), (4, 1), (6, 2), (6, 2), (9, 0), (11, 1), (14, 1)])],
        [records([(2, 0), (4, 0), (5, 2), (6, 0), (9, 1), (9, 0), (15, 0)]),
         records([(1, 1), (1, 1), (1, 2), (2, 1), (8, 0), (8, 1), (20, 0)])],
    ]
    var random = SeededRandom(seed: 29, stream: "competing")
    for (n, m, censoring, deathShare) in [(70, 50, 0.4, 0.3), (150, 40, 0.8, 0.2), (30, 90, 0.3, 0.5)] {
        func draw(_ count: Int, hazard: Double) -> [CompetingRisksRecord] {
            (0..<count).map { _ in
                let event = (-log(max(random.uniform(), 1e-300)) / hazard / 7).rounded(.up)  // whole weeks: many ties
                let censor = (random.uniform() * 900 / censoring / 7).rounded(.up)
                let outcome: CompetingRisksRecord.Outcome = event > censor ? .censored : (random.uniform() < deathShare ? .death : .relapse)
                return CompetingRisksRecord(time: min(event, censor), outcome: outcome)
            }
        }
        sets.append([draw(n, hazard: 1.0 / 600), draw(m, hazard: 1.0 / 250)])
    }
    return sets
}

@Suite("Cumulative incidence and Gray's test against R cmprsk")
struct CompetingRisksTests {
    @Test("Aalen-Johansen estimate and variance of both causes at every time, and Gray's test of each cause, equal R cmprsk's cuminc to 1e-9")
    func matchesCmprsk() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, set) in competingSets().enumerated() {
            var tsv = "time\tcause\tgroup\n"
            for (g, group) in set.enumerated() { for r in group { tsv += "\(TableNumber.plain(r.time))\t\(r.outcome.rawValue)\t\(g)\n" } }
            let input = directory.appendingPathComponent("set\(index).tsv")
            try tsv.write(to: input, atomically: true, encoding: .utf8)
            let run = try reference(URL(fileURLWithPath: "/usr/bin/Rscript"), [packageRoot.appendingPathComponent("Scripts/cmprsk-reference").path, input.path])
            #expect(run.status == 0, "R cmprsk failed (or is not installed: Scripts/setup): \(run.error)")
            guard run.status == 0 else { return }
            let lines = run.output.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            let curves = set.map { CumulativeIncidence($0) }
            var compared = 0
            for fields in lines where fields[0] == "cif" {
                let group = Int(fields[1])!, cause = Int(fields[2])!, time = Double(fields[3])!
                let estimate = Double(fields[4])!, variance = Double(fields[5])!
                let step = curves[group].at(time)
                let (mine, mineVariance) = cause == 1 ? (step.relapse, step.relapseVariance) : (step.death, step.deathVariance)
                #expect(abs(mine - estimate) < 1e-9 && abs(mineVariance - variance) < 1e-9,
                        "set \(index) group \(group) cause \(cause) t=\(time): \(mine) (\(mineVariance)) vs \(estimate) (\(variance))")
                compared += 1
            }
            #expect(compared > 10)
            for fields in lines where fields[0] == "gray" {
                let cause: CompetingRisksRecord.Outcome = fields[1] == "1" ? .relapse : .death
                let gray = try #require(GrayTest.test(set, cause: cause))
                #expect(abs(gray.chiSquare - Double(fields[2])!) < 1e-9 * max(1, gray.chiSquare), "set \(index) cause \(fields[1]) statistic")
                #expect(abs(gray.p - Double(fields[3])!) < 1e-9, "set \(index) cause \(fields[1]): p \(gray.p) vs \(fields[3])")
            }
            #expect(lines.filter { $0[0] == "gray" }.count == 2)
        }
    }

    @Test("without deaths the relapse incidence is 1 - Kaplan-Meier; deaths lower it; the log(-log) interval holds the estimate")
    func properties() {
        let relapsesOnly = [CompetingRisksRecord(time: 2, outcome: .relapse), CompetingRisksRecord(time: 3, outcome: .censored),
                            CompetingRisksRecord(time: 5, outcome: .relapse), CompetingRisksRecord(time: 8, outcome: .censored)]
        let km = KaplanMeier(relapsesOnly.map { SurvivalRecord(time: $0.time, event: $0.outcome == .relapse) })
        let cif = CumulativeIncidence(relapsesOnly)
        for t in [1.0, 2, 4, 5, 9] { #expect(abs(cif.at(t).relapse - (1 - km.at(t).survival)) < 1e-12) }
        var competing = relapsesOnly
        competing[1].outcome = .death
        let lower = CumulativeIncidence(competing)
        #expect(lower.at(9).relapse < cif.at(9).relapse && lower.at(9).death > 0)
        let step = lower.at(9)
        #expect(step.relapseCILow < step.relapse && step.relapse < step.relapseCIHigh)
        #expect(GrayTest.test([relapsesOnly, []]) == nil)
        #expect(GrayTest.test([[CompetingRisksRecord(time: 1, outcome: .censored)], [CompetingRisksRecord(time: 2, outcome: .death)]]) == nil)
    }
}

/// Cox data sets: times in whole days or weeks (ties), early events, censoring, 1-3 binary terms.
private func coxSets() -> [(times: [Double], events: [Bool], x: [[Double]])] {
    var random = SeededRandom(seed: 41, stream: "cox")
    var sets: [(times: [Double], events: [Bool], x: [[Double]])] = []
    for (n, terms, effect, censoring, unit) in [(40, 1, 0.8, 0.3, 7.0), (120, 3, 0.6, 0.5, 1.0), (200, 2, -0.5, 0.8, 30.0), (60, 3, 1.2, 0.2, 14.0)] {
        var times: [Double] = [], events: [Bool] = [], x: [[Double]] = []
        for _ in 0..<n {
            let row = (0..<terms).map { j in random.bernoulli(j == 0 ? 0.5 : 0.35) ? 1.0 : 0.0 }
            let linear = effect * row[0] + (terms > 1 ? 0.3 * row[1] : 0) - (terms > 2 ? 0.4 * row[2] : 0)
            let event = -log(max(random.uniform(), 1e-300)) * 400 / exp(linear)
            let censor = random.uniform() * 900 / censoring
            times.append((min(event, censor) / unit).rounded(.up))
            events.append(event <= censor)
            x.append(row)
        }
        sets.append((times, events, x))
    }
    // A hand-made one: ties of events with censorings at the same time, an event at the first time.
    sets.append(([1, 2, 2, 2, 3, 3, 4, 5, 5, 6, 7, 8, 8, 9, 10, 10], [true, true, true, false, true, false, true, true, true, false, true, false, true, true, false, true],
                 [[1], [0], [1], [1], [0], [1], [1], [0], [0], [1], [0], [1], [0], [1], [0], [0]]))
    return sets
}

/// A Cox data set as the reference scripts read it (time, event, x0, x1, ...); its term names and file.
private func writeCoxSet(_ set: (times: [Double], events: [Bool], x: [[Double]]), to input: URL) throws -> ([String], URL) {
    let names = (0..<set.x[0].count).map { "x\($0)" }
    var tsv = "time\tevent\t" + names.joined(separator: "\t") + "\n"
    for i in set.times.indices {
        tsv += "\(TableNumber.plain(set.times[i]))\t\(set.events[i] ? 1 : 0)\t" + set.x[i].map { String(Int($0)) }.joined(separator: "\t") + "\n"
    }
    try tsv.write(to: input, atomically: true, encoding: .utf8)
    return (names, input)
}

@Suite("Cox proportional hazards against lifelines and R survival")
struct CoxModelTests {
    @Test("HR, Wald interval, p and the proportional-hazards test equal lifelines' CoxPHFitter and proportional_hazard_test to 1e-9")
    func matchesLifelines() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, set) in coxSets().enumerated() {
            let (names, input) = try writeCoxSet(set, to: directory.appendingPathComponent("cox\(index).tsv"))
            let run = try reference(projectTool("python3"), [packageRoot.appendingPathComponent("Scripts/lifelines-cox-reference").path, input.path])
            #expect(run.status == 0, "lifelines failed (or is not installed: Scripts/setup): \(run.error)")
            guard run.status == 0 else { return }
            let model = try CoxModel(times: set.times, events: set.events, covariates: set.x, names: names)
            let rows = run.output.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            #expect(rows.count == names.count)
            for (term, fields) in zip(model.terms, rows) {
                let values = fields.dropFirst().map { Double($0)! }
                func close(_ a: Double, _ b: Double, _ what: String) {
                    #expect(abs(a - b) <= 1e-9 * max(1, abs(b)), "set \(index) \(term.name) \(what): \(a) vs \(b)")
                }
                close(term.coefficient, values[0], "coef")
                close(term.standardError, values[1], "se")
                close(term.hazardRatio, values[2], "hr")
                close(term.ciLow, values[3], "ci_low")
                close(term.ciHigh, values[4], "ci_high")
                close(term.p, values[5], "p")
                close(try #require(term.proportionalHazardsP), values[6], "ph_p")
            }
        }
    }

    @Test("the exact fit equals R survival's coxph (Efron, tight tolerance) to 1e-8; lifelines' path stays within 1e-3 of a standard error of it")
    func matchesR() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (index, set) in coxSets().enumerated() {
            let (names, input) = try writeCoxSet(set, to: directory.appendingPathComponent("cox\(index).tsv"))
            let script = "suppressPackageStartupMessages(library(survival)); d <- read.delim('\(input.path)'); "
                + "f <- coxph(Surv(time, event) ~ ., data = d, ties = 'efron', control = coxph.control(eps = 1e-14, toler.chol = 1e-15, iter.max = 200)); "
                + "cat(sprintf('%.17g', coef(f)), sep = '\\n'); cat(sprintf('%.17g', sqrt(diag(vcov(f)))), sep = '\\n')"
            let run = try reference(URL(fileURLWithPath: "/usr/bin/Rscript"), ["-e", script])
            #expect(run.status == 0, "R survival failed (or is not installed: Scripts/setup): \(run.error)")
            guard run.status == 0 else { return }
            let values = run.output.split(separator: "\n").map { Double($0)! }
            let exact = try CoxModel(times: set.times, events: set.events, covariates: set.x, names: names, convergence: .exact)
            let lifelines = try CoxModel(times: set.times, events: set.events, covariates: set.x, names: names)
            for (j, term) in exact.terms.enumerated() {
                #expect(abs(term.coefficient - values[j]) < 1e-8, "set \(index) \(term.name): \(term.coefficient) vs R \(values[j])")
                #expect(abs(term.standardError - values[names.count + j]) < 1e-8, "set \(index) \(term.name) se")
                #expect(abs(lifelines.terms[j].coefficient - term.coefficient) < 1e-3 * term.standardError)
            }
        }
    }

    @Test("models that cannot be fitted say why: no events, a constant term, separation, collinear terms")
    func unfittable() {
        let times: [Double] = [1, 2, 3, 4, 5, 6]
        #expect(throws: CoxModel.FitError.noEvents) {
            try CoxModel(times: times, events: [Bool](repeating: false, count: 6), covariates: times.map { [$0 > 3 ? 1 : 0] }, names: ["x"])
        }
        #expect(throws: CoxModel.FitError.constantTerm("x")) {
            try CoxModel(times: times, events: [true, false, true, false, true, false], covariates: times.map { _ in [1] }, names: ["x"])
        }
        // Every event among x = 1: the likelihood rises without bound.
        let separated = [true, true, true, false, false, false]
        #expect(throws: CoxModel.FitError.monotoneLikelihood(["mrd_positive"])) {
            try CoxModel(times: times, events: separated, covariates: [[1], [1], [1], [0], [0], [0]], names: ["mrd_positive"])
        }
        #expect(throws: CoxModel.FitError.collinear) {
            try CoxModel(times: times, events: [true, false, true, true, false, true], covariates: [[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]], names: ["a", "b"])
        }
        #expect(CoxModel.FitError.monotoneLikelihood(["mrd_positive"]).description.contains("no events"))
    }
}
