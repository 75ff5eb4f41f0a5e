package dev.agentcoordinator.agent;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/** Routes a message from another agent to the handler of its type and turns the outcome into a response body. */
final class MessageDispatcher {
    private static final Logger LOG = LoggerFactory.getLogger(MessageDispatcher.class);

    private final String agentName;
    private final Map<String, MessageHandler> handlers;

    MessageDispatcher(String agentName, Map<String, MessageHandler> handlers) {
        this.agentName = agentName;
        this.handlers = Map.copyOf(handlers);
    }

    /** The response body (ok or error JSON). */
    String dispatch(AgentMessage message) {
        MessageHandler handler = handlers.get(message.type());
        if (handler == null) {
            if (!message.requiresResponse()) {   // a notice: nobody reads the error below, so this line is all there is
                LOG.warn("agent {}: notice {} ({}) from {} dropped: no handler for its type", agentName, message.messageId(),
                        message.type(), message.from());
            }
            return AgentMessageWire.error("agent " + agentName + " has no handler for message type " + message.type()
                    + (handlers.isEmpty() ? "" : " (known: " + String.join(", ", handlers.keySet().stream().sorted().toList()) + ")"));
        }
        try {
            return AgentMessageWire.ok(handler.handle(message));
        } catch (Exception | Error e) {
            ActionDispatcher.rethrowIfFatal(e);   // as a step handler's: an Error is answered too
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            LOG.warn("agent {}: handler of message {} ({}) from {} failed", agentName, message.messageId(), message.type(),
                    message.from(), e);
            return AgentMessageWire.error(ActionDispatcher.describe(e));
        }
    }
}
