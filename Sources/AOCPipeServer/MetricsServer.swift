import AOCPipe
import NIOCore
import NIOHTTP1
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// The agent's HTTP endpoint: `GET /metrics` (Prometheus text exposition, as rendered at the
/// last emission) and `GET /healthz` (200 `ok`, or 503 with the reasons). Nothing it serves
/// changes state; anything else is 404 (or 405 for another method).
///
/// No client can hold it: a request's head must be complete within `headerTimeout` of its
/// first byte (slowloris), a connection without a request in progress is closed after
/// `idleTimeout`, and at most `maxConnections` are open (a new one closes the longest idle,
/// so `/healthz` still answers), which keeps descriptors for the followed files.
public final class MetricsServer: Sendable {
    public struct Limits: Sendable {
        public var maxConnections = Defaults.maxConnections
        public var headerTimeout = TimeAmount.seconds(10)
        public var idleTimeout = TimeAmount.seconds(60)

        public init() {}

        /// The defaults, with the connection cap for this process's `ulimit -n`
        /// (`Defaults.endpointConnections`).
        public static var forThisProcess: Limits {
            var limits = Limits()
            limits.maxConnections = Defaults.endpointConnections(openFiles: openFilesLimit())
            return limits
        }
    }

    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    /// Where it listens (the port the system chose, when asked for port 0).
    public let address: String

    /// Listens on `listen` (`127.0.0.1:9441`; `:9441`: every interface, IPv6 and IPv4, or
    /// IPv4's alone where there is no IPv6); one event loop thread.
    public init(listen: String, store: MetricsStore, limits: Limits = .forThisProcess) throws {
        let address: ListenAddress
        switch ListenAddress.parse(listen) {
        case .success(let a): address = a
        case .failure(let problem): throw ServerError(message: "cannot listen on \(problem)")
        }
        // One thread: every connection is on its loop, where `Connections` lives.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connections = Connections(limits: limits, loop: group.next())
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let timer = RequestTimer(channel: channel, limits: limits)
                    connections.admit(timer)
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(RequestStart(timer: timer))
                    try sync.configureHTTPServerPipeline()
                    try sync.addHandler(MetricsHandler(store: store, timer: timer))
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
final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let store: MetricsStore
    let timer: RequestTimer
    init(store: MetricsStore, timer: RequestTimer) {
        self.store = store
        self.timer = timer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        timer.headArrived()
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
        let keepAlive = head.isKeepAlive, channel = context.channel, timer = self.timer
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if keepAlive { timer.responseSent() } else { channel.close(promise: nil) }
        }
    }
}

/// Where one connection is between requests, and the deadline that closes it: idle (no
/// request: `idleTimeout`), reading a head (from its first byte: `headerTimeout`), answering.
/// Confined to the server's event loop.
final class RequestTimer {
    enum State { case idle, readingHead, answering }
    let channel: any Channel
    let limits: MetricsServer.Limits
    private(set) var state = State.idle
    /// When the state last changed (the longest idle connection is closed first).
    private(set) var since = NIODeadline.now()
    private var deadline: Scheduled<Void>?

    init(channel: any Channel, limits: MetricsServer.Limits) {
        self.channel = channel
        self.limits = limits
        arm(limits.idleTimeout)
    }

    func bytesArrived() {
        guard state == .idle else { return }
        enter(.readingHead, timeout: limits.headerTimeout)
    }

    func headArrived() { enter(.answering, timeout: nil) }

    func responseSent() { enter(.idle, timeout: limits.idleTimeout) }

    private func enter(_ next: State, timeout: TimeAmount?) {
        state = next
        since = .now()
        deadline?.cancel()
        deadline = nil
        if let timeout { arm(timeout) }
    }

    private func arm(_ timeout: TimeAmount) {
        let channel = self.channel
        deadline = channel.eventLoop.assumeIsolated().scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    func cancel() {
        deadline?.cancel()
        deadline = nil
    }
}

/// First in a connection's pipeline: a request's first byte starts its header timeout.
final class RequestStart: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let timer: RequestTimer
    init(timer: RequestTimer) { self.timer = timer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timer.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// The open connections, at most `maxConnections`: one more closes the one idle (or reading a
/// head) the longest, or itself when every one is being answered. Lives on the server's one
/// event loop; the lock-free confinement is checked there.
final class Connections: @unchecked Sendable {
    let limits: MetricsServer.Limits
    let loop: any EventLoop
    private var open: [ObjectIdentifier: RequestTimer] = [:]

    init(limits: MetricsServer.Limits, loop: any EventLoop) {
        self.limits = limits
        self.loop = loop
    }

    func admit(_ timer: RequestTimer) {
        timer.channel.eventLoop.preconditionInEventLoop()
        let id = ObjectIdentifier(timer.channel)
        if open.count >= limits.maxConnections {
            guard let oldest = open.values.filter({ $0.state != .answering }).min(by: { $0.since < $1.since }) else {
                timer.cancel()
                timer.channel.close(promise: nil)
                return
            }
            oldest.cancel()
            oldest.channel.close(promise: nil)
            open[ObjectIdentifier(oldest.channel)] = nil
        }
        open[id] = timer
        timer.channel.closeFuture.assumeIsolated().whenComplete { [self] _ in
            timer.cancel()
            open[id] = nil
        }
    }
}
