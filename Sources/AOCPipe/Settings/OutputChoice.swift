/// The shapes a report can be rendered in.
public enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, jsonl, csv, thai
    /// Prometheus text exposition (the windows, and what was read).
    case prometheus
    /// OpenMetrics with event-time timestamps, for `promtool tsdb create-blocks-from openmetrics`.
    case openmetrics
}

/// Which windows a renderer writes.
public enum WindowSelection: String, Sendable, CaseIterable {
    case day, hour, all
}
