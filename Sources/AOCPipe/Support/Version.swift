public enum AOCPipeVersion { public static let string = "0.1.0" }
