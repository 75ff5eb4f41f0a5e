package dev.agentcoordinator.ops;

import io.netty.channel.Channel;
import io.netty.handler.traffic.GlobalTrafficShapingHandler;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.HttpServerImpl;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.SslChannelProvider;

import java.util.function.BiConsumer;

/**
 * Vert.x's HTTP server, with a {@link RequestHeadDeadline} on each connection it accepts. Vert.x offers no bound of its
 * own on the time a request's head takes, and calls a connection handler only once an HTTP/1.x request head has
 * arrived (with h2c on), too late to bound that one: the channel is reached where the server sets each one up.
 */
final class HeadBoundedHttpServer extends HttpServerImpl {
    private final long headTimeoutMs;

    HeadBoundedHttpServer(VertxInternal vertx, HttpServerOptions options, long headTimeoutMs) {
        super(vertx, options);
        this.headTimeoutMs = headTimeoutMs;
        connectionHandler(RequestHeadDeadline::onConnection);
    }

    @Override
    protected BiConsumer<Channel, SslChannelProvider> childHandler(ContextInternal context, SocketAddress address,
                                                                    GlobalTrafficShapingHandler trafficShaping) {
        BiConsumer<Channel, SslChannelProvider> setUp = super.childHandler(context, address, trafficShaping);
        return (channel, ssl) -> {
            setUp.accept(channel, ssl);
            RequestHeadDeadline.watch(channel, headTimeoutMs);
        };
    }
}
