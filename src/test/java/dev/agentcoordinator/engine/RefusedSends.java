package dev.agentcoordinator.engine;

import jakarta.jms.Connection;
import jakarta.jms.Message;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import org.apache.activemq.artemis.api.jms.management.JMSManagementHelper;

/**
 * A real fault for one queue, for the duration of a test: the broker refuses every message sent to it
 * ({@code AMQ219058: Address ... is full}: address settings of its own, a size limit of 0 bytes with the FAIL policy,
 * set through the broker's management queue), as a broker that is lost under a send fails the sender. Other queues,
 * and what the queue holds already, are untouched; closing removes the settings and sends go through again.
 */
final class RefusedSends implements AutoCloseable {
    private final String address;

    private RefusedSends(String address) throws Exception {
        this.address = address;
        manage("addAddressSettings", address, "{\"maxSizeBytes\": 0, \"addressFullMessagePolicy\": \"FAIL\"}");
    }

    /** Sends to {@code address} (one queue's, no wildcards) fail until closed. */
    static RefusedSends to(String address) throws Exception {
        if (!address.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("not one address: " + address);
        }
        return new RefusedSends(address);
    }

    @Override
    public void close() throws Exception {
        manage("removeAddressSettings", address);
    }

    private static void manage(String operation, Object... parameters) throws Exception {
        try (Connection connection = TestCoordinator.shared().connectionFactory().createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryQueue replies = session.createTemporaryQueue();
            Message request = session.createMessage();
            JMSManagementHelper.putOperationInvocation(request, "broker", operation, parameters);
            request.setJMSReplyTo(replies);
            session.createProducer(session.createQueue("activemq.management")).send(request);
            Message answer = session.createConsumer(replies).receive(10_000);
            if (answer == null || !JMSManagementHelper.hasOperationSucceeded(answer)) {
                throw new IllegalStateException("the broker did not " + operation + ": "
                        + (answer == null ? "no answer" : JMSManagementHelper.getResult(answer)));
            }
        }
    }
}
