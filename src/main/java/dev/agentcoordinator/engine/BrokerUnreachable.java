package dev.agentcoordinator.engine;

import org.apache.activemq.artemis.api.core.ActiveMQException;
import org.apache.activemq.artemis.api.core.ActiveMQExceptionType;

import java.util.Set;

/**
 * Tells a failure because the broker cannot be reached, or the connection to it was lost under a send (a producer,
 * session or connection the client closed with it, a transaction rolled back on failover), from any other. Nothing
 * is wrong with the message: it goes back to the broker and is delivered again once the connection is back.
 */
public final class BrokerUnreachable {
    /** What the Artemis client reports when the connection is gone or was replaced under the call. */
    private static final Set<ActiveMQExceptionType> LOST = Set.of(ActiveMQExceptionType.NOT_CONNECTED,
            ActiveMQExceptionType.CONNECTION_TIMEDOUT, ActiveMQExceptionType.DISCONNECTED, ActiveMQExceptionType.UNBLOCKED,
            ActiveMQExceptionType.OBJECT_CLOSED, ActiveMQExceptionType.REMOTE_DISCONNECT,
            ActiveMQExceptionType.TRANSACTION_ROLLED_BACK, ActiveMQExceptionType.TRANSACTION_OUTCOME_UNKNOWN);

    private BrokerUnreachable() {
    }

    /**
     * Whether the failure or one of its causes is one of {@link #LOST}, a JMS {@code IllegalStateException} saying a
     * producer, session, consumer or connection "is closed" (what the Artemis client and a pooled session left over
     * from before a broker restart say) or "has already been closed" (pooled-jms, after a kill -9 of the broker), or a JMS
     * {@code TransactionRolledBackException}.
     */
    public static boolean causes(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ActiveMQException amq && LOST.contains(amq.getType())) {
                return true;
            }
            if (t instanceof jakarta.jms.TransactionRolledBackException) {
                return true;
            }
            if (t instanceof jakarta.jms.IllegalStateException closed && closed.getMessage() != null
                    && (closed.getMessage().contains("is closed") || closed.getMessage().contains("has already been closed"))) {
                return true;
            }
        }
        return false;
    }
}
