import Foundation

/// `mrd stats` output: one row per file (or per mate of a paired sample), as TSV or JSON.
public enum StatsReport {
    public static let columns = ["file", "format", "compression", "reads", "bases", "min_len", "mean_len", "max_len",
                                 "mean_qual", "q30_percent", "gc_percent"]

    /// Appended when pairs are merged (`--merge`): the same counts as baseline.json and call.json.
    public static let pairColumns = ["read_pairs", "merged_pairs", "unmerged_pairs"]

    public static func table(_ rows: [FileStatistics]) -> String {
        var tsv = TableWriter()
        let withPairs = rows.contains { $0.pairs != nil }
        tsv.row(columns + (withPairs ? pairColumns : []))
        for row in rows {
            let s = row.statistics
            var fields = [row.fileLabel, row.formatLabel, row.compressionLabel, String(s.reads), String(s.bases),
                          s.reads == 0 ? "" : String(s.minLength), fixed(s.meanLength), String(s.maxLength),
                          s.meanQuality.map(fixed) ?? "", s.q30Percent.map(fixed) ?? "", fixed(s.gcPercent)]
            if withPairs {
                fields += row.pairs.map { [String($0.readPairs), String($0.mergedPairs), String($0.unmergedPairs)] } ?? ["", "", ""]
            }
            tsv.row(fields)
        }
        return tsv.text
    }

    public static func json(_ rows: [FileStatistics]) -> String {
        let objects: [[String: Any]] = rows.map { row in
            let s = row.statistics
            var object: [String: Any] = [
                "file": row.fileLabel, "format": row.formatLabel, "compression": row.compressionLabel,
                "reads": s.reads, "bases": s.bases, "max_len": s.maxLength,
                "mean_len": rounded(s.meanLength), "gc_percent": rounded(s.gcPercent),
                "files": row.files.map { ["file": $0.file, "format": $0.format?.rawValue ?? "",
                                          "compression": $0.compression.rawValue, "reads": $0.records] as [String: Any] },
            ]
            object["min_len"] = s.reads == 0 ? NSNull() : s.minLength
            object["mean_qual"] = s.meanQuality.map(rounded) ?? NSNull()
            object["q30_percent"] = s.q30Percent.map(rounded) ?? NSNull()
            if let pairs = row.pairs {
                object["read_pairs"] = pairs.readPairs
                object["merged_pairs"] = pairs.mergedPairs
                object["unmerged_pairs"] = pairs.unmergedPairs
                object["merged"] = row.isMerged
            }
            return object
        }
        let data = try! JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func fixed(_ value: Double) -> String { String(format: "%.2f", value) }
    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
