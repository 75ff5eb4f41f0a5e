package dev.agentcoordinator.infra;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import org.apache.activemq.artemis.api.jms.management.JMSManagementHelper;

import java.util.Optional;

/**
 * Requests to Artemis' management address over a connection of their own, answered on a temporary
 * queue. Works with the embedded broker and with a standalone one whose user has the {@code manage}
 * permission (the docker image's admin user has it).
 */
public final class BrokerManagement implements AutoCloseable {
    static final String ADDRESS = "activemq.management";

    /** What the broker answered: whether the request succeeded, and its result (or why it failed). */
    public record Answer(boolean succeeded, Object result) {
    }

    private final Connection connection;
    private final Session session;
    private final TemporaryQueue answers;
    private final MessageProducer producer;
    private final MessageConsumer consumer;
    private final long timeoutMs;

    private BrokerManagement(Connection connection, long timeoutMs) throws JMSException {
        this.connection = connection;
        this.timeoutMs = timeoutMs;
        session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
        answers = session.createTemporaryQueue();
        producer = session.createProducer(session.createQueue(ADDRESS));
        consumer = session.createConsumer(answers);
        connection.start();
    }

    /** Opens a connection for management requests, each answered within {@code timeoutMs} or not at all. */
    public static BrokerManagement open(ConnectionFactory connectionFactory, long timeoutMs) throws JMSException {
        // Not a pooled connection: pooled-jms' close() returns the session to the pool first and then deletes the
        // temporary queue again through that (Artemis) session, which another thread may already be using
        // (AMQ212051 "Invalid concurrent session usage" on POST /api/events while requests were withdrawn)
        if (connectionFactory instanceof org.messaginghub.pooled.jms.JmsPoolConnectionFactory pool
                && pool.getConnectionFactory() instanceof ConnectionFactory plain) {
            connectionFactory = plain;
        }
        Connection connection = connectionFactory.createConnection();
        try {
            return new BrokerManagement(connection, timeoutMs);
        } catch (JMSException | RuntimeException e) {
            connection.close();
            throw e;
        }
    }

    /** An attribute of a resource ({@code ResourceNames.QUEUE + name}); empty when the broker does not answer in time. */
    public Optional<Answer> attribute(String resource, String attribute) throws Exception {
        Message request = session.createMessage();
        JMSManagementHelper.putAttribute(request, resource, attribute);
        return ask(request);
    }

    /** An operation on a resource; empty when the broker does not answer in time. */
    public Optional<Answer> invoke(String resource, String operation, Object... parameters) throws Exception {
        Message request = session.createMessage();
        JMSManagementHelper.putOperationInvocation(request, resource, operation, parameters);
        return ask(request);
    }

    private Optional<Answer> ask(Message request) throws Exception {
        request.setJMSReplyTo(answers);
        producer.send(request);
        Message answer = consumer.receive(timeoutMs);
        if (answer == null) {
            return Optional.empty();
        }
        return Optional.of(new Answer(JMSManagementHelper.hasOperationSucceeded(answer), JMSManagementHelper.getResult(answer)));
    }

    @Override
    public void close() throws JMSException {
        try {
            consumer.close();   // a temporary queue with a consumer cannot be deleted
            answers.delete();
        } finally {
            connection.close();
        }
    }
}
