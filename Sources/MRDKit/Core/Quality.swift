import Foundation

/// Error probability of each Phred quality, 10^(-q/10).
let phredErrorProbability: [Double] = (0...93).map { pow(10, -Double($0) / 10) }

/// The expected number of sequencing errors in the junction of a read (its Phred+33 qualities'
/// error probabilities summed over `junctionStart..<junctionEnd`, positions of the read turned to
/// the V-to-J direction when `reversed`); 0 for a read without qualities.
func expectedJunctionErrors(_ quality: UnsafeBufferPointer<UInt8>, readLength: Int, reversed: Bool, junctionStart: Int, junctionEnd: Int) -> Double {
    guard quality.count == readLength, junctionStart >= 0, junctionStart <= junctionEnd, junctionEnd <= readLength else { return 0 }
    let first = reversed ? readLength - junctionEnd : junctionStart
    var sum = 0.0
    for p in first..<first + junctionEnd - junctionStart { sum += phredErrorProbability[min(93, Int(quality[p] &- 33))] }
    return sum
}
