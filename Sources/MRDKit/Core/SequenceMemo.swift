import CSequenceKernels
import Foundation

/// An open-addressing table from byte strings to payloads, for memoising per-read work.
///
/// Amplicon libraries are dominated by PCR copies of few molecules, so most reads repeat a sequence
/// already seen; keying on the read's bytes in place (no per-read allocation) and storing the keys
/// in one arena makes a repeated read cost one hash and one comparison. The table is bounded: once
/// `capacity` keys are held, `insert` declines and the caller does the work without memoising.
///
/// With `admitOnRepeat`, a key is admitted on its second sighting only (a doorkeeper filter remembers the first): with
/// sequencing errors most reads are seen once, and a memo that took every new key filled with
/// those and missed the repeats that came later (on a 700,000-read diagnosis with 32% distinct
/// reads it answered 10% of the reads; admitted twice-seen it answers most repeats).
public struct SequenceMemo<Payload> {
    private var arena: [UInt8] = []
    private var keyStart: [Int] = []
    private var keyLength: [Int32] = []
    private var keyHash: [UInt32] = []
    /// Entry index + 1 per slot; 0 = empty.
    private var slots: [Int32]
    private let mask: Int
    public private(set) var payloads: [Payload] = []
    public let capacity: Int
    /// Keys seen once (two bits per key, by its hash): made at the first insert.
    private var doorkeeper: [UInt64] = []
    /// 2^23 bits (1 MiB): two bits per key keep false admissions under 1% for 400,000 keys per memo.
    static var doorkeeperBits: Int { 1 << 23 }

    /// Whether a key is taken only when offered a second time.
    public let admitOnRepeat: Bool

    public init(capacity: Int, admitOnRepeat: Bool = false) {
        self.capacity = capacity
        self.admitOnRepeat = admitOnRepeat
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [Int32](repeating: 0, count: size)
        mask = size - 1
    }

    public var count: Int { payloads.count }

    public subscript(index: Int) -> Payload {
        get { payloads[index] }
        set { payloads[index] = newValue }
    }

    /// Calls `body` with the bytes of entry `index`'s key.
    public func withKey<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        arena.withUnsafeBufferPointer { stored in
            body(UnsafeBufferPointer(rebasing: stored[keyStart[index]..<(keyStart[index] + Int(keyLength[index]))]))
        }
    }

    /// The entry holding `bytes`, if any.
    public func index(of bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        let short = UInt32(truncatingIfNeeded: hash >> 32)
        while true {
            let entry = Int(slots[slot]) - 1
            if entry < 0 { return nil }
            if keyHash[entry] == short && Int(keyLength[entry]) == bytes.count {
                let equal = arena.withUnsafeBufferPointer { stored in
                    bytes.count == 0 || memcmp(stored.baseAddress! + keyStart[entry], bytes.baseAddress!, bytes.count) == 0
                }
                if equal { return entry }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Adds `bytes` (not already present) with its payload; nil when the memo is full or (with
    /// `admitOnRepeat`) this is the first time `bytes` is offered: it is remembered, and taken when
    /// offered again.
    public mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64, payload: Payload) -> Int? {
        guard payloads.count < capacity, !admitOnRepeat || seenBefore(hash) else { return nil }
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        let entry = payloads.count
        keyStart.append(arena.count)
        arena.append(contentsOf: bytes)
        keyLength.append(Int32(bytes.count))
        keyHash.append(UInt32(truncatingIfNeeded: hash >> 32))
        payloads.append(payload)
        slots[slot] = Int32(entry + 1)
        return entry
    }

    /// Whether a key of this hash was offered before (rarely a false yes); marks it seen.
    private mutating func seenBefore(_ hash: UInt64) -> Bool {
        if doorkeeper.isEmpty { doorkeeper = [UInt64](repeating: 0, count: Self.doorkeeperBits / 64) }
        let mask = UInt64(Self.doorkeeperBits - 1)
        let first = Int((hash >> 20) & mask), second = Int((hash >> 41) & mask)
        return doorkeeper.withUnsafeMutableBufferPointer { words in
            let firstBit: UInt64 = 1 << UInt64(first & 63), secondBit: UInt64 = 1 << UInt64(second & 63)
            let seen = words[first >> 6] & firstBit != 0 && words[second >> 6] & secondBit != 0
            words[first >> 6] |= firstBit
            words[second >> 6] |= secondBit
            return seen
        }
    }

    /// The hash the memos key reads by (four lanes, C): it is computed for every read, and by each
    /// worker of a partitioned pipeline. Not stable across versions; nothing stored on disk uses it.
    @inline(__always)
    public static func readHash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        mrd_hash_bytes(bytes.baseAddress, bytes.count)
    }

    /// A fast 64-bit hash of a byte string (8 bytes per step, multiply-xorshift mixing); stable,
    /// so content hashes written to disk (completion records) keep their meaning.
    @inline(__always)
    public static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return mix(h) }
        let raw = UnsafeRawPointer(base)
        var i = 0
        while i + 8 <= bytes.count {
            h = mix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < bytes.count {
            tail |= UInt64(base[i]) << shift
            shift += 8
            i += 1
        }
        return mix(h ^ tail ^ 0xFF51_AFD7_ED55_8CCD)
    }

    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var x = value &* 0xBF58_476D_1CE4_E5B9
        x ^= x >> 31
        x = x &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 29)
    }
}

/// A byte sequence as a dictionary key, hashed in one call over its bytes (an `[UInt8]` key is
/// hashed byte by byte).
public struct Bases: Hashable, Sendable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
