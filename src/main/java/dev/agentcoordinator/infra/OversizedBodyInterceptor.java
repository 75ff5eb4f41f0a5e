package dev.agentcoordinator.infra;

import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.Interceptor;
import org.apache.activemq.artemis.api.core.Message;
import org.apache.activemq.artemis.core.protocol.core.Packet;
import org.apache.activemq.artemis.core.protocol.core.impl.wireformat.SessionReceiveLargeMessage;
import org.apache.activemq.artemis.core.protocol.core.impl.wireformat.SessionReceiveMessage;
import org.apache.activemq.artemis.spi.core.protocol.RemotingConnection;

import java.util.Set;
import java.util.function.Predicate;

/**
 * Keeps the body of a message delivered from {@code addresses} unread when it is longer than {@code maxBytes}: it
 * comes as a BytesMessage, whose body the JMS client reads only when asked, and the route that consumes it refuses it
 * by its length ({@code dev.agentcoordinator.engine.Utf8Text#of(org.apache.camel.Message, int)}) without asking.
 * A TextMessage's text is decoded by the Artemis JMS client as it is received, before any listener sees it: a reply
 * of 50 MB took a 512 MB heap from 77 to 414 MB (its bytes, the text as the client keeps it, then as a String), where
 * the broker had already said how long it is. A large message's body (sent above the sender's minLargeMessageSize)
 * is streamed after the packet this reads, and is dropped as it comes when the message is acknowledged unread.
 * The agent SDK puts one on an agent's connection factory for its queue and temporary queues
 * ({@code dev.agentcoordinator.agent.MessageSizeBound}).
 */
public final class OversizedBodyInterceptor implements Interceptor {
    private final Predicate<String> addresses;
    private final int maxBytes;

    public OversizedBodyInterceptor(Set<String> addresses, int maxBytes) {
        this(Set.copyOf(addresses)::contains, maxBytes);
    }

    /** For {@code addresses} that change while it is installed (an agent's temporary queues, made again on reconnection). */
    public OversizedBodyInterceptor(Predicate<String> addresses, int maxBytes) {
        this.addresses = addresses;
        this.maxBytes = maxBytes;
    }

    @Override
    public boolean intercept(Packet packet, RemotingConnection connection) throws ActiveMQException {
        if (packet instanceof SessionReceiveLargeMessage large) {
            // a body the sender compressed (compressLargeMessages) comes in fewer bytes than it inflates to: the sender's
            // client gives that size in _AMQ_LARGE_SIZE
            Message message = large.getLargeMessage();
            Object declared = message == null ? null : message.getObjectProperty(Message.HDR_LARGE_BODY_SIZE);
            leaveUnreadIfOversized(message, Math.max(large.getLargeMessageSize(), declared instanceof Number n ? n.longValue() : 0));
        } else if (packet instanceof SessionReceiveMessage regular
                && regular.getMessage() instanceof org.apache.activemq.artemis.api.core.client.ClientMessage core) {
            // already in memory (the broker makes a message of more than its journal's record size a large one), but
            // its text would take twice as much again
            leaveUnreadIfOversized(core, core.getBodySize());
        }
        return true;
    }

    private void leaveUnreadIfOversized(Message message, long bodyBytes) {
        // a Map-, Stream- or plain Message's body is read on receipt as well: any but bytes
        if (bodyBytes > maxBytes && message != null && message.getType() != Message.BYTES_TYPE
                && message.getAddress() != null && addresses.test(message.getAddress())) {
            message.setType(Message.BYTES_TYPE);
        }
    }
}
