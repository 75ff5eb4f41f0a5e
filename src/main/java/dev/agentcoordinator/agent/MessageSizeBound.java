package dev.agentcoordinator.agent;

import dev.agentcoordinator.infra.OversizedBodyInterceptor;
import jakarta.jms.BytesMessage;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.api.core.client.ServerLocator;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The most bytes of a body an agent reads of one request, agent message or response, refused before they are read. The
 * Artemis JMS client decodes a TextMessage's text as it receives it, before the agent can look at it: whoever could
 * write to {@code agent.<name>} could fill the agent's heap with one message. On an Artemis connection factory (also
 * behind a pooled one) an {@link OversizedBodyInterceptor} watches the addresses this bound guards (the service's queue,
 * its messenger's and heartbeats' temporary queues): a longer body comes as a BytesMessage, whose length the broker
 * gives and whose body is never read. A factory of another client has read the text already: it is refused by its
 * length all the same. One per service or stand-alone messenger.
 */
final class MessageSizeBound {
    /** As the coordinator's {@code coordinator.input.max-message-bytes}: a TextMessage takes 2 bytes a character on the broker. */
    static final int DEFAULT_MAX_BYTES = 40 * 1024 * 1024;
    /** Room for any control message and a small request. */
    static final int LEAST_MAX_BYTES = 64 * 1024;
    static final String SERVICE_OPTION = "AgentService.Builder.maxMessageBytes";
    static final String MESSENGER_OPTION = "AgentMessenger.connect's maxMessageBytes";

    private final int maxBytes;
    private final String option;
    private final Set<String> guarded = ConcurrentHashMap.newKeySet();
    private final OversizedBodyInterceptor interceptor;
    /** The locators the interceptor is on, once per start of what uses this bound (a builder may start services again). */
    private final List<ServerLocator> installedOn = new ArrayList<>();

    MessageSizeBound(int maxBytes, String option) {
        if (maxBytes < LEAST_MAX_BYTES) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%s must be at least %,d, was %,d", option, LEAST_MAX_BYTES, maxBytes));
        }
        this.maxBytes = maxBytes;
        this.option = option;
        this.interceptor = new OversizedBodyInterceptor(guarded::contains, maxBytes);
    }

    int maxBytes() {
        return maxBytes;
    }

    /** Keeps the longer bodies that {@code factory}'s connections receive on a guarded address unread, until {@link #uninstall}. */
    synchronized void installOn(ConnectionFactory factory) {
        ServerLocator locator = locatorOf(factory);
        if (locator != null) {
            locator.addIncomingInterceptor(interceptor);
            installedOn.add(locator);
        }
    }

    /** Undoes one {@link #installOn}: a factory that outlives the service is left as it was. */
    synchronized void uninstall() {
        if (!installedOn.isEmpty()) {
            installedOn.remove(installedOn.size() - 1).removeIncomingInterceptor(interceptor);
        }
    }

    void guard(String address) {
        guarded.add(address);
    }

    void unguard(String address) {
        guarded.remove(address);
    }

    private static ServerLocator locatorOf(ConnectionFactory factory) {
        Object artemis = factory instanceof JmsPoolConnectionFactory pool ? pool.getConnectionFactory() : factory;
        return artemis instanceof ActiveMQConnectionFactory core ? core.getServerLocator() : null;
    }

    /**
     * The body as text, {@code what} ("request") naming it in a refusal: one longer than the bound is refused, a
     * BytesMessage's before it is read (its length is the broker's), a TextMessage's by the bytes the broker holds it
     * in; bytes that are not UTF-8 are refused, naming the first (STOMP frames with content-length come as BytesMessages).
     */
    String bodyOf(Message message, String what) throws JMSException, MalformedRequestException {
        if (message instanceof TextMessage text) {
            String body = text.getText();
            if (body != null) {
                refuseIfLonger(5 + 2L * body.length(), what);   // a flag, a length, then 2 bytes a character
            }
            return body;
        }
        if (message instanceof BytesMessage bytes) {
            refuseIfLonger(bytes.getBodyLength(), what);
            byte[] body = new byte[(int) bytes.getBodyLength()];
            bytes.readBytes(body);
            try {
                return dev.agentcoordinator.text.Utf8.decode(body, maxBytes);
            } catch (IllegalArgumentException notText) {
                throw new MalformedRequestException(what + " body is " + notText.getMessage(), notText);
            }
        }
        throw new MalformedRequestException("expected a text message with a JSON body, got "
                + message.getClass().getSimpleName(), null);
    }

    private void refuseIfLonger(long length, String what) throws MalformedRequestException {
        if (length > maxBytes) {
            throw new MalformedRequestException(String.format(Locale.ROOT, "%s is %,d bytes long: more than the %,d bytes read (%s)",
                    what, length, maxBytes, option), null);
        }
    }
}
