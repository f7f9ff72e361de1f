import Foundation

/// A 64-bit content hash of files, in order (hex): what `--resume` compares.
func contentHash(_ paths: [String]) throws -> String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4 << 20, alignment: 8)
    defer { buffer.deallocate() }
    for path in paths {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReadError(FileManager.default.fileExists(atPath: path) ? .unreadableInput : .missingInput, file: path,
                            FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "no such file")
        }
        defer { try? handle.close() }
        let fd = handle.fileDescriptor
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 { throw ReadError(.unreadableInput, file: path, "read error") }
            if n == 0 { break }
            let bytes = UnsafeBufferPointer(start: buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), count: n)
            hash = SequenceMemo<Int>.mix(hash ^ SequenceMemo<Int>.hash(bytes) &+ UInt64(n))
        }
        hash = SequenceMemo<Int>.mix(hash ^ 0x5851_F42D_4C95_7F2D)
    }
    return String(hash, radix: 16)
}
