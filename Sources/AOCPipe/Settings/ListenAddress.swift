/// Where the HTTP endpoint listens, as `--listen` and an http sink's `listen` write it:
/// `127.0.0.1:9441`, `[::1]:9441`, `localhost:9441`, `:9441` (every interface), or port 0
/// (one the system picks).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Empty: every interface.
    public var host: String
    public var port: Int

    public var description: String { (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    /// The address `text` names, or why it names none.
    public static func parse(_ text: String) -> Result<ListenAddress, Problem> {
        guard let colon = text.lastIndex(of: ":") else {
            return .failure(Problem("\"\(text)\" is not HOST:PORT (e.g. 127.0.0.1:9441, or :9441 for every interface)"))
        }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber), portText.count <= 5,
              let port = Int(portText), port <= 65_535 else {
            return .failure(Problem("\"\(text)\": port \"\(portText)\" is not a number from 0 to 65535"))
        }
        guard !host.contains(":") || text.hasPrefix("[") else {
            return .failure(Problem("\"\(text)\": an IPv6 host is written in brackets, e.g. [::1]:9441"))
        }
        return .success(ListenAddress(host: host, port: port))
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
