package dev.agentcoordinator.ops;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AttributeKey;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.impl.Http1xServerConnection;
import io.vertx.core.net.impl.ConnectionBase;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One connection's bound on the time its HTTP/1.x request head (request line and headers) takes to arrive: from the
 * connection's opening for the first request, from its first byte for a later one. A connection kept alive between
 * requests is the idle timeout's, and an HTTP/2 one (h2c) is left alone from the moment Vert.x knows it is HTTP/2.
 *
 * <p>Two Netty handlers share this state: one first in the pipeline sees the bytes arrive (from the opening, before
 * Vert.x has decided between HTTP/1.x and HTTP/2), one just before Vert.x's connection handler sees each decoded
 * head ({@link HttpRequest}) and each request's end ({@link LastHttpContent}). The second can only be placed once
 * Vert.x made its HTTP/1.x connection ({@link #onConnection}); with h2c on, that is when the first head has arrived.
 */
final class RequestHeadDeadline {
    private static final AttributeKey<RequestHeadDeadline> KEY = AttributeKey.valueOf(RequestHeadDeadline.class.getName());
    /** Vert.x's names in the pipeline (HttpServerWorker): its HTTP/1.x decoder, and the connection's handler. */
    private static final String DECODER = "httpDecoder";
    private static final String CONNECTION = "handler";

    private final Channel channel;
    private final long timeoutMs;
    private final ChannelInboundHandlerAdapter bytes = new Bytes();
    private final ChannelInboundHandlerAdapter heads = new Heads();
    private ScheduledFuture<?> closing;
    /** True from a request's end to the next request's first byte. */
    private boolean betweenRequests;
    private boolean headsWatched;

    private RequestHeadDeadline(Channel channel, long timeoutMs) {
        this.channel = channel;
        this.timeoutMs = timeoutMs;
    }

    /** On a connection just accepted: its first request head is due within {@code timeoutMs}. */
    static void watch(Channel channel, long timeoutMs) {
        RequestHeadDeadline deadline = new RequestHeadDeadline(channel, timeoutMs);
        channel.attr(KEY).set(deadline);
        channel.pipeline().addFirst("requestHeadBytes", deadline.bytes);
        deadline.start();
    }

    /**
     * The HTTP server's connection handler: Vert.x made an HTTP/1.x connection on the channel (with h2c on, once the
     * first head arrived: the head is then on its way to the connection, past the decoder), or an HTTP/2 one.
     */
    static void onConnection(HttpConnection connection) {
        if (!(connection instanceof ConnectionBase base)) {
            return;
        }
        RequestHeadDeadline deadline = base.channelHandlerContext().channel().attr(KEY).get();
        if (deadline == null) {
            return;
        }
        ChannelPipeline pipeline = base.channelHandlerContext().pipeline();
        if (connection instanceof Http1xServerConnection && pipeline.get(CONNECTION) != null) {
            pipeline.addBefore(CONNECTION, "requestHeads", deadline.heads);
            deadline.headsWatched = true;
        } else {
            deadline.leave(pipeline);   // HTTP/2: a head per stream, in frames
        }
    }

    private void start() {
        stop();
        if (timeoutMs > 0) {   // 0: no deadline; the heads are still watched (a chunked request closes its connection)
            closing = channel.eventLoop().schedule(() -> channel.close(), timeoutMs, TimeUnit.MILLISECONDS);
        }
    }

    private void stop() {
        if (closing != null) {
            closing.cancel(false);
            closing = null;
        }
    }

    private void leave(ChannelPipeline pipeline) {
        stop();
        if (pipeline.context(bytes) != null) {
            pipeline.remove(bytes);
        }
        if (pipeline.context(heads) != null) {
            pipeline.remove(heads);
        }
    }

    private final class Bytes extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            if (headsWatched && ctx.pipeline().get(DECODER) == null) {
                leave(ctx.pipeline());   // no longer HTTP/1.x (a WebSocket)
            } else if (betweenRequests && message instanceof ByteBuf buffer && buffer.isReadable()) {
                betweenRequests = false;
                start();
            }
            ctx.fireChannelRead(message);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            stop();
            ctx.fireChannelInactive();
        }
    }

    private final class Heads extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            if (message instanceof HttpRequest request) {
                stop();   // also a head the decoder refused: it is answered, then the connection closes
                if (io.netty.handler.codec.http.HttpUtil.isTransferEncodingChunked(request)) {
                    // Netty drops a Content-Length sent with Transfer-Encoding: chunked and reads the chunks; RFC 9112
                    // 6.1 then requires the connection to close after the answer (a proxy that went by the length
                    // would have sent the bytes after the last chunk as a request of their own: smuggling). The
                    // decoded head no longer says whether a length came too, so every chunked request closes it
                    io.netty.handler.codec.http.HttpUtil.setKeepAlive(request, false);
                }
            }
            if (message instanceof LastHttpContent) {
                betweenRequests = true;
            }
            ctx.fireChannelRead(message);
        }
    }
}
