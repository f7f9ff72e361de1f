/// Open addressing over indices into the caller's storage, each slot with its key's hash: the
/// storage holds the keys, and `find` asks it whether an index's key is the one looked for, so a
/// lookup makes no key (no allocation, no SipHash).
struct IndexHashTable {
    /// Index per slot, -1 when empty; the slot's hash beside it (for growing).
    private var slots: [Int32]
    private var hashes: [UInt64]
    private(set) var count = 0

    /// Room for `expected` indices before the first growth.
    init(expected: Int = 512) {
        var size = 1024
        while size < expected * 2 { size <<= 1 }
        slots = [Int32](repeating: -1, count: size)
        hashes = [UInt64](repeating: 0, count: size)
    }

    /// The first index under `hash` whose key `matches`.
    @inline(__always)
    func find(hash: UInt64, _ matches: (Int) -> Bool) -> Int? {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let index = slots[slot]
            if index < 0 { return nil }
            if hashes[slot] == hash && matches(Int(index)) { return Int(index) }
            slot = (slot + 1) & mask
        }
    }

    /// Adds `index` (not yet in the table) under `hash`.
    mutating func insert(_ index: Int, hash: UInt64) {
        if (count + 1) * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = Int32(index)
        hashes[slot] = hash
        count += 1
    }

    private mutating func grow() {
        let oldSlots = slots, oldHashes = hashes
        slots = [Int32](repeating: -1, count: oldSlots.count * 2)
        hashes = [UInt64](repeating: 0, count: oldSlots.count * 2)
        let mask = slots.count - 1
        for i in oldSlots.indices where oldSlots[i] >= 0 {
            var slot = Int(truncatingIfNeeded: oldHashes[i]) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = oldSlots[i]
            hashes[slot] = oldHashes[i]
        }
    }
}
