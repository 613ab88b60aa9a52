import AOCPipe
import NIOCore
import NIOHTTP1
import NIOPosix

/// The agent's HTTP endpoint: `GET /metrics` (Prometheus text exposition, as rendered at the
/// last emission) and `GET /healthz` (200 `ok`, or 503 with the reasons). Nothing it serves
/// changes state; anything else is 404 (or 405 for another method).
public final class MetricsServer: Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    /// Where it listens (the port the system chose, when asked for port 0).
    public let address: String

    /// Listens on `listen` (`127.0.0.1:9441`; `:9441`: every interface, IPv6 and IPv4, or
    /// IPv4's alone where there is no IPv6); one event loop thread.
    public init(listen: String, store: MetricsStore) throws {
        let address: ListenAddress
        switch ListenAddress.parse(listen) {
        case .success(let a): address = a
        case .failure(let problem): throw ServerError(message: "cannot listen on \(problem)")
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(MetricsHandler(store: store))
                }
            }
        var bound: (any Channel)?
        var failure: (any Error)?
        for host in address.host.isEmpty ? ["::", "0.0.0.0"] : [address.host] where bound == nil {
            do {
                bound = try bootstrap.bind(host: host, port: address.port).wait()
            } catch {
                failure = failure ?? error
            }
        }
        guard let bound else {
            try? group.syncShutdownGracefully()
            throw ServerError(message: "cannot listen on \(listen): \(Self.reason(failure))")
        }
        channel = bound
        self.group = group
        self.address = bound.localAddress.map { "\($0.ipAddress.map { $0.contains(":") ? "[\($0)]" : $0 } ?? address.host):\($0.port ?? address.port)" } ?? listen
    }

    /// What went wrong, as the system says it (`Address already in use`), not NIO's call site.
    static func reason(_ error: (any Error)?) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if let error { return "\(error)" }
        return "unknown error"
    }

    public func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}

/// One connection's requests: answered from the store's snapshot.
final class MetricsHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let store: MetricsStore
    init(store: MetricsStore) { self.store = store }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus, contentType: String, body: [UInt8]
        switch (head.method, path) {
        case (.GET, "/metrics"), (.HEAD, "/metrics"):
            let snapshot = store.snapshot
            (status, contentType, body) = (.ok, "text/plain; version=0.0.4; charset=utf-8", snapshot.exposition + snapshot.agent)
        case (.GET, "/healthz"), (.HEAD, "/healthz"):
            let problems = store.snapshot.problems
            (status, contentType, body) = problems.isEmpty
                ? (.ok, "text/plain; charset=utf-8", Array("ok\n".utf8))
                : (.serviceUnavailable, "text/plain; charset=utf-8", Array((problems.joined(separator: "\n") + "\n").utf8))
        case (_, "/metrics"), (_, "/healthz"):
            (status, contentType, body) = (.methodNotAllowed, "text/plain; charset=utf-8", Array("GET only\n".utf8))
        default:
            (status, contentType, body) = (.notFound, "text/plain; charset=utf-8", Array("not found: /metrics, /healthz\n".utf8))
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        let keepAlive = head.isKeepAlive, channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
