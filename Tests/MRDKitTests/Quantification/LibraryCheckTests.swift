import Testing
@testable import MRDKit

@Suite("Library check (low_v_identity)")
struct LibraryCheckTests {
    @Test("weighted lower median; nil under the minimum weight")
    func weightedMedians() {
        #expect(weightedMedian([(value: 0.9, weight: 1), (value: 0.7, weight: 1)]) == 0.7)
        #expect(weightedMedian([(value: 0.9, weight: 3), (value: 0.7, weight: 2)]) == 0.9)
        #expect(weightedMedian([(value: 0.5, weight: 10), (value: 0.99, weight: 9)]) == 0.5)
        #expect(weightedMedian([]) == nil)
        #expect(weightedMedian([(value: 0.8, weight: 49)], minimumWeight: 50) == nil)
    }

    @Test("the histogram judges only from 50 reads, at a median under 0.85")
    func histogram() {
        var h = VIdentityHistogram()
        for _ in 0..<49 { h.add(0.70) }
        #expect(h.median() == nil && !h.isLow)
        h.add(0.70)
        #expect(h.median() == 0.70 && h.isLow)
        var human = VIdentityHistogram()
        for _ in 0..<60 { human.add(0.97) }
        for _ in 0..<40 { human.add(0.75) }  // hypermutated or unrelated reads, a minority
        #expect(human.median() == 0.97 && !human.isLow)
        human.merge(h)  // 50 at 0.70, 40 at 0.75, 60 at 0.97
        #expect(human.median() == 0.75 && human.isLow)
        var edges = VIdentityHistogram()
        edges.add(1.0); edges.add(1.2); edges.add(-0.1)
        #expect(edges.counts[100] == 2 && edges.counts[0] == 1)
    }
}
