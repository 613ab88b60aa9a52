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

    /// Listens on `host:port` (`127.0.0.1:9441`); one event loop thread.
    public init(listen: String, store: MetricsStore) throws {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ServerError(message: "listen address \"\(listen)\" is not HOST:PORT (e.g. 127.0.0.1:9441)")
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(MetricsHandler(store: store))
                    }
                }
                .bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            throw ServerError(message: "cannot listen on \(listen): \(error)")
        }
        self.group = group
        address = channel.localAddress.map { "\($0.ipAddress ?? host):\($0.port ?? port)" } ?? listen
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
