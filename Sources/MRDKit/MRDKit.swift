/// `mrd`: minimal residual disease from immune-receptor sequencing reads.
public enum MRD {
    /// The version `mrd --version` prints and every output records.
    public static let version = "0.2.0"
}
