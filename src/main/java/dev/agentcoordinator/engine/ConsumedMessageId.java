package dev.agentcoordinator.engine;

import org.apache.activemq.artemis.jms.client.ActiveMQMessage;
import org.apache.camel.Message;
import org.apache.camel.component.jms.JmsMessage;

/**
 * What names a consumed message across its deliveries, so that a replay of the message that did something (a step's
 * {@code dispatched_by}, an agent message's {@code accepted_by} and {@code responded_by}) is told from any other
 * message: its JMSMessageID. A message sent without one (over STOMP, or by an AMQP or JMS client that sets none) is
 * named by the broker's own id of it instead, which its journal keeps: the same on every delivery, across broker
 * restarts too. Without it, what such a reply started was not known to have been started by it, and a request that
 * died with an uncommitted send was never sent again. Not an event's key: a broker whose data was wiped numbers its
 * messages anew, and an event stored under an old number would be taken for a delivery of the new one.
 */
public final class ConsumedMessageId {
    private ConsumedMessageId() {
    }

    /** Names the consumed message as the cause of what its exchange dispatches ({@link Headers#CAUSE_MESSAGE_ID}). */
    public static void setAsCause(org.apache.camel.Exchange exchange) {
        exchange.getMessage().setHeader(Headers.CAUSE_MESSAGE_ID, of(exchange.getMessage()));
    }

    /** The consumed message's JMSMessageID, else the broker's id of it ("broker:<n>"), or null when neither is known. */
    public static String of(Message in) {
        String id = in.getHeader("JMSMessageID", String.class);
        if (id != null) {
            return id;
        }
        if (in instanceof JmsMessage jms && jms.getJmsMessage() instanceof ActiveMQMessage artemis) {
            return "broker:" + artemis.getCoreMessage().getMessageID();
        }
        return null;
    }
}
