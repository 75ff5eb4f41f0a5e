package dev.agentcoordinator.bench;

import com.zaxxer.hikari.HikariDataSource;
import dev.agentcoordinator.infra.Database;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.JMSException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.messaginghub.pooled.jms.JmsPoolConnectionFactory;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The physical floor: what a step costs with no Camel and no orchestration. A "token" walks the six
 * steps of the interview shape through the same no-op agents; each step is one persistent JMS
 * request to the agent's queue, the agent's persistent reply to a durable reply queue, and one JDBC
 * insert into a scratch table of the same PostgreSQL, done by plain JMS consumers (transacted
 * sessions of a pooled connection factory, as many as the coordinator's reply consumers) with a
 * Hikari pool as large as the coordinator's.
 */
final class FloorDriver implements AutoCloseable {
    static final String REPLY_QUEUE = "bench.floor.replies";
    private static final String[] AGENTS = {"bench-interviewer", "bench-sentinel", "bench-sentinel",
            "bench-architect", "bench-architect", "bench-action"};
    private static final String[] ACTIONS = {"analyze_transcript", "extract_skills_from_interview", "update_user_skills",
            "evaluate_roadmap_relevance", "adjust_roadmap", "send_interview_summary"};

    final AtomicLong steps = new AtomicLong();
    final AtomicLong finishedTokens = new AtomicLong();
    private final JmsPoolConnectionFactory pool = new JmsPoolConnectionFactory();
    private final HikariDataSource dataSource;
    private final List<Thread> consumers = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean(true);
    /** true: a token starts over after its last step (closed loop); false: it ends there. */
    private volatile boolean cycling;

    FloorDriver(String brokerUrl, String jdbcUrl, int consumerCount, int poolConnections, int dbPoolSize) throws JMSException {
        // as the coordinator's client does (Messaging): no broker round trip to look the queues up on every send
        ActiveMQConnectionFactory factory = new ActiveMQConnectionFactory(brokerUrl);
        factory.setCacheDestinations(true);
        pool.setConnectionFactory(factory);
        pool.setMaxConnections(poolConnections);
        dataSource = Database.pool(jdbcUrl, "postgres", "", dbPoolSize);
        try (var connection = dataSource.getConnection(); var statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS bench_floor_steps (id bigserial PRIMARY KEY, token text NOT NULL, "
                    + "step int NOT NULL, output jsonb, created_at timestamptz NOT NULL DEFAULT now())");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the floor's scratch table", e);
        }
        for (int i = 0; i < consumerCount; i++) {
            Connection connection = pool.createConnection();
            Session session = connection.createSession(true, Session.SESSION_TRANSACTED);
            MessageConsumer consumer = session.createConsumer(session.createQueue(REPLY_QUEUE));
            MessageProducer producer = session.createProducer(null);
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            connection.start();
            Thread thread = new Thread(() -> consume(connection, session, consumer, producer), "bench-floor-" + (i + 1));
            thread.setDaemon(true);
            consumers.add(thread);
            thread.start();
        }
    }

    void cycling(boolean on) {
        cycling = on;
    }

    /** Starts a token at its first step. */
    void startToken() throws JMSException {
        try (Connection connection = pool.createConnection();
             Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE)) {
            MessageProducer producer = session.createProducer(null);
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            sendStep(session, producer, UUID.randomUUID().toString(), 0);
        }
    }

    private void consume(Connection connection, Session session, MessageConsumer consumer, MessageProducer producer) {
        try (connection) {
            while (running.get()) {
                Message reply = consumer.receive(100);
                if (reply == null) {
                    continue;
                }
                String[] correlation = reply.getJMSCorrelationID().split(":");
                String token = correlation[0];
                int step = Integer.parseInt(correlation[1]);
                insert(token, step, ((TextMessage) reply).getText());
                steps.incrementAndGet();
                if (step + 1 < AGENTS.length) {
                    sendStep(session, producer, token, step + 1);
                } else if (cycling) {
                    sendStep(session, producer, token, 0);
                } else {
                    finishedTokens.incrementAndGet();
                }
                session.commit();
            }
        } catch (JMSException | SQLException e) {
            if (running.get()) {
                System.err.println("floor consumer failed: " + e);
            }
        }
    }

    private void insert(String token, int step, String output) throws SQLException {
        try (var connection = dataSource.getConnection();
             PreparedStatement insert = connection.prepareStatement(
                     "INSERT INTO bench_floor_steps (token, step, output) VALUES (?, ?, CAST(? AS jsonb))")) {
            insert.setString(1, token);
            insert.setInt(2, step);
            insert.setString(3, output);
            insert.executeUpdate();
        }
    }

    /** The same request the coordinator would send for this step (CONTRACT.md section 2). */
    private static void sendStep(Session session, MessageProducer producer, String token, int step) throws JMSException {
        String body = "{\"execution_id\":\"" + token + "\",\"workflow_id\":\"floor\",\"step_id\":\"" + StepClock.STEPS.get(step)
                + "\",\"agent\":\"" + AGENTS[step] + "\",\"action\":\"" + ACTIONS[step] + "\",\"attempt\":1,\"iteration\":0,"
                + "\"deadline\":\"" + Instant.now().plusSeconds(300) + "\",\"input\":{\"user_id\":\"u-1\",\"analysis\":{\"score\":82}}}";
        TextMessage request = session.createTextMessage(body);
        request.setJMSCorrelationID(token + ":" + step);
        Queue replyTo = session.createQueue(REPLY_QUEUE);
        request.setJMSReplyTo(replyTo);
        producer.send(session.createQueue("agent." + AGENTS[step]), request);
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        for (Thread consumer : consumers) {
            consumer.join(5_000);
        }
        pool.stop();
        dataSource.close();
    }
}
