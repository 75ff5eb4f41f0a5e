package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.jms.Connection;
import jakarta.jms.DeliveryMode;
import jakarta.jms.InvalidDestinationException;
import jakarta.jms.JMSException;
import jakarta.jms.JMSSecurityException;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TemporaryQueue;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.jms.JmsEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

import javax.sql.DataSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A reload asked of one coordinator ({@code POST /api/workflows/reload}, Hawtio) reaches the other coordinators on
 * its broker and database, so that they do not go on starting the versions it replaced. The asker publishes a
 * notice on the topic {@value #TOPIC}; each other coordinator reloads its own workflow folder and answers what
 * changed there (or its problems) to the asker's temporary queue. The asker waits for the coordinators it knows to
 * be alive (those that recorded the versions they run and hold a session on the database) for at most
 * {@code coordinator.workflows.reload-wait-ms}, and names those that did not answer.
 */
public final class ReloadNotices implements org.apache.camel.Service {
    /** The multicast address every coordinator subscribes to (non-durable: one that is down reloads as it starts). */
    public static final String TOPIC = "coordinator.workflows.reload";
    /** JMS property of a notice: the instance that sent it, which does not take its own. */
    static final String SENDER = "coordinatorInstance";
    /** JMS property of a notice: the database of its sender; coordinators of another database on the broker ignore it. */
    static final String DATABASE = "coordinatorDatabase";

    private static final Logger LOG = LoggerFactory.getLogger(ReloadNotices.class);
    /** The database as every coordinator on it names it: its name and when its schema was first migrated. */
    private static final String DATABASE_IDENTITY = """
            SELECT current_database() || '@' || COALESCE((SELECT (extract(epoch FROM installed_on) * 1000000)::bigint::text
                                                            FROM flyway_schema_history ORDER BY installed_rank LIMIT 1), '')""";
    private static final String OTHERS_ALIVE = """
            SELECT DISTINCT r.instance_id FROM workflow_definition_runners r
             WHERE r.instance_id <> current_setting('application_name')
               AND EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = r.instance_id)
             ORDER BY 1""";

    private final JdbcTemplate database;
    private final ActiveMQConnectionFactory broker;
    private final long waitMs;
    /** This coordinator as the database knows it (application_name, as the runner rows record it). */
    private final String self;
    private final String databaseIdentity;

    /** {@code broker}: connections of their own for the notice and its answers, which fail rather than wait through an outage. */
    public ReloadNotices(DataSource dataSource, ActiveMQConnectionFactory broker, long waitMs) {
        this.database = new JdbcTemplate(dataSource);
        this.broker = broker;
        this.waitMs = waitMs;
        this.self = database.queryForObject("SELECT current_setting('application_name')", String.class);
        this.databaseIdentity = database.queryForObject(DATABASE_IDENTITY, String.class);
    }

    /**
     * Whether the broker lets this coordinator's user subscribe to the notices. A standalone broker may refuse it
     * ({@code createNonDurableQueue} on the address): the route would then fail its set-up every five seconds for
     * ever, so it is not added, and one WARN line says so; so does a broker that does not create the address (a
     * standalone one with {@code auto-create-addresses} off). A broker that cannot be reached now is no refusal.
     */
    public boolean subscriptionAllowed(jakarta.jms.ConnectionFactory pooled) {
        // the coordinator's pooled connections, open already: asked on the way to ready, a connection of its own took 0.1 s
        try (Connection connection = pooled.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            session.createConsumer(session.createTopic(TOPIC)).close();
            return true;
        } catch (JMSSecurityException e) {
            LOG.warn("Workflows: a reload asked of another coordinator will not reach this one (reload it by itself):"
                    + " the broker refuses its user a subscription to {}: {}", TOPIC, e.getMessage());
            return false;
        } catch (InvalidDestinationException e) {
            LOG.warn("Workflows: a reload asked of another coordinator will not reach this one (reload it by itself):"
                    + " the broker has no address {} and does not create it: {}", TOPIC, e.getMessage());
            return false;
        } catch (JMSException | RuntimeException e) {
            return true;
        }
    }

    /** The route that reloads this coordinator's folder when another coordinator was asked to, and answers it. */
    public RouteBuilder answeringRoute(WorkflowReload reload) {
        return new RouteBuilder() {
            @Override
            public void configure() {
                // one subscriber per coordinator: each would get its own copy of a notice
                JmsEndpoint notices = getContext().getEndpoint("jms:topic:" + TOPIC
                        + "?concurrentConsumers=1&maxConcurrentConsumers=1", JmsEndpoint.class);
                notices.setSelector(SENDER + " <> " + quoted(self) + " AND " + DATABASE + " = " + quoted(databaseIdentity));
                from(notices)
                        .routeId("coordinator.workflows.reload-notices")
                        .routeDescription("reloads the workflow folder when another coordinator was asked to, and answers it")
                        .process(exchange -> exchange.getMessage().setBody(answer(reload,
                                exchange.getMessage().getHeader(SENDER, String.class)).toString()));
            }
        };
    }

    private static String quoted(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private ObjectNode answer(WorkflowReload reload, String asker) {
        LOG.info("Workflows: coordinator {} was asked to reload its workflow folder; reloading this one's", asker);
        WorkflowReload.Answer answer;
        try {
            answer = reload.reloadAnswering();
            if (!answer.reloaded()) {
                LOG.warn("Workflows not reloaded at the request of coordinator {}: {}", asker, answer.body());
            }
        } catch (RuntimeException e) {   // the database, most likely: the asker is told rather than left waiting
            LOG.warn("Workflows not reloaded at the request of coordinator {}: {}", asker, e.toString(), e);
            answer = new WorkflowReload.Answer(500, Json.object().put("error", "the workflows were not reloaded: " + e));
        }
        ObjectNode told = Json.object().put("instance_id", self).put("status", answer.status());
        told.setAll(answer.body());
        return told;
    }

    /**
     * Asks the other coordinators alive to reload their folders, and waits for their answers: one entry per
     * coordinator ({@code instance_id}, {@code status}, and what its reload answered, or {@code error}), empty when
     * no other coordinator runs.
     */
    public ArrayNode tellOthers() {
        ArrayNode answers = Json.array();
        List<String> expected;
        try {
            expected = database.queryForList(OTHERS_ALIVE, String.class);
        } catch (org.springframework.dao.DataAccessException e) {   // this reload happened: the others are not known
            LOG.warn("Workflows: the other coordinators were not asked to reload theirs: {}", e.toString());
            answers.addObject().put("status", 503).put("error", "the other coordinators were not asked to reload theirs:"
                    + " which are alive cannot be read from the database (" + e.getMostSpecificCause().getMessage() + ")");
            return answers;
        }
        if (expected.isEmpty()) {
            return answers;
        }
        Map<String, JsonNode> received = new LinkedHashMap<>();
        String notTold = null;
        int notToldStatus = 503;
        try {
            collectAnswers(expected, received);
        } catch (JMSSecurityException e) {
            notTold = "the broker refuses this coordinator's user (" + e.getMessage() + ")";
            notToldStatus = 403;
        } catch (JMSException | RuntimeException e) {
            notTold = "the broker cannot be reached (" + e + ")";
        }
        if (notTold != null) {
            LOG.warn("Workflows: the other coordinators could not be asked to reload theirs: {}", notTold);
        }
        for (String instance : expected) {
            JsonNode answer = received.remove(instance);
            if (answer != null) {
                answers.add(answer);
            } else if (notTold != null) {
                answers.addObject().put("instance_id", instance).put("status", notToldStatus)
                        .put("error", "not asked to reload: " + notTold);
            } else {
                LOG.warn("Workflows: coordinator {} did not answer the reload within {} ms", instance, waitMs);
                answers.addObject().put("instance_id", instance).put("status", 504)
                        .put("error", "no answer within " + waitMs + " ms (a coordinator of a release before this one,"
                                + " or one whose broker user may not subscribe to " + TOPIC + ", does not take the notice:"
                                + " reload it by itself)");
            }
        }
        received.values().forEach(answers::add);   // one alive without runner rows: no workflow loaded
        return answers;
    }

    private void collectAnswers(List<String> expected, Map<String, JsonNode> received) throws JMSException {
        try (Connection connection = broker.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            TemporaryQueue answers = session.createTemporaryQueue();
            MessageConsumer consumer = session.createConsumer(answers);
            String correlationId = UUID.randomUUID().toString();
            TextMessage notice = session.createTextMessage(Json.object().put("from", self).toString());
            notice.setStringProperty(SENDER, self);
            notice.setStringProperty(DATABASE, databaseIdentity);
            notice.setJMSReplyTo(answers);
            notice.setJMSCorrelationID(correlationId);
            MessageProducer producer = session.createProducer(session.createTopic(TOPIC));
            producer.setDeliveryMode(DeliveryMode.NON_PERSISTENT);
            producer.setTimeToLive(waitMs);   // a notice nobody took in time is not taken later
            producer.send(notice);
            long deadline = System.nanoTime() + waitMs * 1_000_000;
            while (!received.keySet().containsAll(expected)) {
                long leftMs = (deadline - System.nanoTime()) / 1_000_000;
                Message answer = leftMs > 0 ? consumer.receive(leftMs) : null;
                if (answer == null) {
                    return;
                }
                if (answer instanceof TextMessage text && correlationId.equals(answer.getJMSCorrelationID())) {
                    try {
                        JsonNode told = Json.parse(text.getText());
                        received.put(told.path("instance_id").asText(), told);
                    } catch (RuntimeException notAnAnswer) {   // not one of ours: the others' answers still count
                        LOG.warn("Workflows: a reload answer that is not JSON was ignored: {}", notAnAnswer.getMessage());
                    }
                }
            }
        }
    }

    /** What the other coordinators answered, in words (Hawtio's). */
    public static String describe(ArrayNode answers) {
        StringBuilder words = new StringBuilder();
        for (JsonNode answer : answers) {
            words.append(words.isEmpty() ? "" : "; ").append(answer.path("instance_id").asText()).append(": ");
            if (answer.path("status").asInt() == 200) {
                words.append("reloaded (").append(answer.path("changed").size()).append(" changed, ")
                        .append(answer.path("added").size()).append(" added, ").append(answer.path("removed").size()).append(" removed)");
            } else {
                words.append(answer.path("status").asInt()).append(' ').append(answer.path("error").asText())
                        .append(answer.has("problems") ? " " + answer.path("problems") : "");
            }
        }
        return words.toString();
    }

    @Override
    public void start() {
    }

    @Override
    public void stop() {
        broker.close();
    }
}
