/// Every default of a pipeline, in one place: what a pipeline file, the command line and the
/// library use when nothing is said (README, "Pipeline files").
public enum Defaults {
    /// The report zone, and the zone of a source's zone-less times.
    public static let zoneIdentifier = "Asia/Bangkok"
    /// The hotline number: CDR lines whose `dst` is exactly this are the hotline's (`CallRules.hotline`).
    public static let hotline = "1441"
    public static let slaMillis = 15 * 60_000
    public static let retentionMillis = 90 * 86_400_000
    public static let latenessMillis = 2 * 3_600_000
    /// A record dated later than the wall clock plus this is `bad_time` (a wrong clock, a damaged line).
    public static let maxFutureMillis = 3_600_000
    /// A record dated before this (2000-01-01 as UTC ms; a pipeline file makes it local
    /// midnight in its zone, as a date it names) is `bad_time`: an unset clock reads 1970.
    public static let notBeforeMillis = 946_684_800_000
    public static let notBeforeText = "2000-01-01"
    /// Days without records between days with records are zero windows up to this long; a
    /// longer gap is left out, so windows are bounded by the data, not the span of its dates.
    public static let fillGapsMillis = 31 * 86_400_000
    /// Follow: how often every glob is looked at when inotify is not there to say what changed.
    public static let pollMillis = 250
    /// Follow: how often every glob is looked at anyway while inotify watches (what it cannot
    /// see: network file systems, a glob's directory made later).
    public static let rescanMillis = 10_000
    /// Follow: a plain file read to its end and not written for this long is closed (and
    /// opened again when it grows), so descriptors follow activity, not the number of files.
    public static let idleTimeoutMillis = 5 * 60_000
    public static let emitEveryMillis = 1_000
    public static let checkpointEveryMillis = 5_000
    public static let maxLineBytes = 65_536
    /// Prometheus formats expose the windows ending within this long of the watermark: a
    /// series per window, so the last week's.
    public static let horizonMillis = 7 * 86_400_000
    /// The endpoint's open connections at most...
    public static let maxConnections = 64
    /// ... and a quarter of the descriptors the process may open if that is less, so
    /// connections never take the followed files' share.
    public static func endpointConnections(openFiles: Int?) -> Int {
        openFiles.map { max(4, min(maxConnections, $0 / 4)) } ?? maxConnections
    }
    /// Where the HTTP endpoint listens when a pipeline or `--listen` does not say.
    public static let listen = "127.0.0.1:9441"
    /// Malformed lines kept as samples, per file.
    public static let samplesPerFile = 20

}
