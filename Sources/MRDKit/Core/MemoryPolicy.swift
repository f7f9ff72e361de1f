import CSequenceKernels

/// How the command asks the C allocator to treat large blocks (called once at start-up).
public enum MemoryPolicy {
    /// Blocks from this size on are mapped from the system and returned to it when freed. A
    /// baseline's group and clonotype tables grow by copying into larger blocks; with glibc's
    /// default (a threshold that rises to the largest block freed so far) the freed old copies stay
    /// in the heap, and a 700k-read diagnosis peaked ~25 MB higher for it.
    public static let mmapThreshold = 256 << 10

    public static func apply() { mrd_memory_policy(mmapThreshold) }

    /// Returns freed heap pages to the system between phases whose threads differ (a baseline's
    /// annotation workers free their tables as the clonotypes are built on other threads).
    static func releaseFreeMemory() { mrd_release_free_memory() }
}
