import Foundation

/// Error probability of each Phred quality, 10^(-q/10).
let phredErrorProbability: [Double] = (0...93).map { pow(10, -Double($0) / 10) }
