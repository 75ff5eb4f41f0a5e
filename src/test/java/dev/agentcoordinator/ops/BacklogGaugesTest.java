package dev.agentcoordinator.ops;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The backlog gauges against the operations test coordinator's database and broker, with outages of both. */
class BacklogGaugesTest {

    @Test
    void gaugesThatCannotBeRefreshedAreLeftOutNotFrozenAndComeBack() throws Exception {
        AtomicBoolean databaseDown = new AtomicBoolean();
        DataSource real = OpsCoordinator.shared().dataSource();
        DataSource flaky = beforeEachConnection(real, () -> {
            if (databaseDown.get()) {
                throw new SQLException("Connection refused (a test outage)", "08001");
            }
        });
        QueueDepths depths = new QueueDepths(OpsCoordinator.shared().connectionFactory(), List.of("agent.events"), 5_000);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BacklogGauges gauges = new BacklogGauges(registry, flaky, List.of("interview_completed"), List.of("interviewer"), depths, 2_000)) {
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").tag("workflow", "interview_completed").gauge()).isNotNull();
            assertThat(registry.find("coordinator_steps_waiting").tag("agent", "interviewer").gauge()).isNotNull();

            databaseDown.set(true);
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").gauges()).as("left out, not frozen at the last value").isEmpty();
            assertThat(registry.find("coordinator_steps_waiting").gauges()).isEmpty();

            databaseDown.set(false);
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").tag("workflow", "interview_completed").gauge()).isNotNull();
        }
    }

    /** How long the oldest execution in flight and the oldest attempt waiting for its agent have waited: what a stuck one shows as. */
    @Test
    void theOldestExecutionAndAttemptInFlightAreGaugedByTheirAge() throws Exception {
        String suffix = java.util.UUID.randomUUID().toString().substring(0, 8);
        String workflow = "gauge-wf-" + suffix;
        String agent = "gauge-agent-" + suffix;
        String executionId = java.util.UUID.randomUUID().toString();
        DataSource database = OpsCoordinator.shared().dataSource();
        try (java.sql.Connection connection = database.getConnection();
             java.sql.PreparedStatement execution = connection.prepareStatement("INSERT INTO workflow_executions (id, workflow_id, workflow_version,"
                     + " status, started_at) VALUES (?, ?, 1, 'running', now() - interval '1 hour')");
             java.sql.PreparedStatement step = connection.prepareStatement("INSERT INTO workflow_step_executions (id, execution_id, step_id,"
                     + " agent, action, status, attempt, timeout_ms, started_at) VALUES (?, ?, 'a', ?, 'x', 'running', 1, 60000,"
                     + " now() - interval '10 minutes')")) {
            execution.setString(1, executionId);
            execution.setString(2, workflow);
            execution.executeUpdate();
            String rowId = java.util.UUID.randomUUID().toString();
            step.setString(1, rowId);
            step.setString(2, executionId);
            step.setString(3, agent);
            step.executeUpdate();
            // its second attempt started a minute ago; the step row's started_at stays the first attempt's
            try (java.sql.PreparedStatement retried = connection.prepareStatement("UPDATE workflow_step_executions SET attempt = 2 WHERE id = ?");
                 java.sql.PreparedStatement times = connection.prepareStatement("UPDATE step_attempts SET started_at = now() -"
                         + " CASE attempt WHEN 1 THEN interval '10 minutes' ELSE interval '1 minute' END WHERE step_execution_id = ?")) {
                retried.setString(1, rowId);
                retried.executeUpdate();
                times.setString(1, rowId);
                assertThat(times.executeUpdate()).isEqualTo(2);
            }
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BacklogGauges gauges = new BacklogGauges(registry, database, List.of(workflow, "idle-wf-" + suffix), List.of(agent),
                new QueueDepths(OpsCoordinator.shared().connectionFactory(), List.of(), 5_000), 2_000)) {
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").tag("workflow", workflow).gauge().value()).isEqualTo(1);
            assertThat(registry.find("coordinator_executions_in_flight_oldest_seconds").tag("workflow", workflow).gauge().value())
                    .isBetween(3600.0, 3700.0);
            assertThat(registry.find("coordinator_executions_in_flight_oldest_seconds").tag("workflow", "idle-wf-" + suffix).gauge().value())
                    .as("none in flight").isZero();
            assertThat(registry.find("coordinator_steps_waiting").tag("agent", agent).gauge().value()).isEqualTo(1);
            assertThat(registry.find("coordinator_steps_waiting_oldest_seconds").tag("agent", agent).gauge().value())
                    .as("since its current attempt started").isBetween(60.0, 120.0);
        } finally {
            try (java.sql.Connection connection = database.getConnection();
                 java.sql.PreparedStatement delete = connection.prepareStatement("DELETE FROM workflow_executions WHERE id = ?")) {
                delete.setString(1, executionId);
                delete.executeUpdate();
            }
        }
    }

    /** A database that hangs (SIGSTOP, a partition) leaves the gauges out within the bound, not at their last values for a minute. */
    @Test
    void gaugesAreLeftOutWithinTheirBoundWhileTheDatabaseHangs() throws Exception {
        AtomicBoolean databaseHangs = new AtomicBoolean();
        DataSource real = OpsCoordinator.shared().dataSource();
        DataSource hanging = beforeEachConnection(real, () -> {
            if (databaseHangs.get()) {
                Thread.sleep(5_000);   // as a pool waiting for a connection to a frozen server
            }
        });
        QueueDepths depths = new QueueDepths(OpsCoordinator.shared().connectionFactory(), List.of("agent.events"), 5_000);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BacklogGauges gauges = new BacklogGauges(registry, hanging, List.of("interview_completed"), List.of("interviewer"), depths, 300)) {
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").tag("workflow", "interview_completed").gauge()).isNotNull();

            databaseHangs.set(true);
            long started = System.nanoTime();
            gauges.refresh();
            assertThat((System.nanoTime() - started) / 1_000_000).as("bounded by the read timeout").isLessThan(2_000);
            assertThat(registry.find("coordinator_executions_in_flight").gauges()).as("left out, not frozen at the last value").isEmpty();
            assertThat(registry.find("coordinator_steps_waiting").gauges()).isEmpty();
            assertThat(registry.find("coordinator_queue_depth").tag("queue", "agent.events").gauge())
                    .as("the broker's gauges do not wait for the database").isNotNull();

            // once the hanging read has returned, the next refresh reads again
            databaseHangs.set(false);
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).until(() -> {
                gauges.refresh();
                return registry.find("coordinator_executions_in_flight").tag("workflow", "interview_completed").gauge() != null;
            });
        }
    }

    /**
     * An agent's queue where requests wait and no agent listens is told once (each attempt would only time out), and
     * told again when an agent listens; its consumers are a gauge.
     */
    @Test
    void anAgentsQueueWithRequestsAndNoAgentIsLoggedOnceAndItsConsumersAreAGauge() throws Exception {
        String agent = "unattended-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        String queue = "agent." + agent;
        jakarta.jms.ConnectionFactory factory = OpsCoordinator.shared().connectionFactory();
        try (jakarta.jms.Connection connection = factory.createConnection()) {
            jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
            session.createProducer(session.createQueue(queue)).send(session.createTextMessage("{}"));
        }
        QueueDepths depths = new QueueDepths(factory, List.of(queue), 5_000);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BacklogGauges gauges = new BacklogGauges(registry, OpsCoordinator.shared().dataSource(), List.of(), List.of(agent), depths, 2_000);
             dev.agentcoordinator.engine.CapturedLog log = dev.agentcoordinator.engine.CapturedLog.of(BacklogGauges.class.getName())) {
            gauges.refresh();
            assertThat(log.lines()).as("not at the first refresh: an agent may still be connecting").isEmpty();
            gauges.refresh();
            gauges.refresh();
            assertThat(registry.find("coordinator_queue_consumers").tag("queue", queue).gauge().value()).isZero();
            assertThat(registry.find("coordinator_queue_depth").tag("queue", queue).gauge().value()).isEqualTo(1);
            assertThat(log.lines()).containsExactly("WARN " + queue + ": 1 request(s) wait and no agent listens on it: is agent \""
                    + agent + "\" running, and named as the workflows name it? Each attempt times out until one listens");

            // the request taken back (its attempt timed out), then another one sent: nobody listens still, and that is not
            // news (it was an INFO "no request waits on it any more" and the WARN again, each time the queue emptied)
            try (jakarta.jms.Connection connection = factory.createConnection()) {
                connection.start();
                jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                assertThat(session.createConsumer(session.createQueue(queue)).receive(5_000)).isNotNull();
            }
            gauges.refresh();
            try (jakarta.jms.Connection connection = factory.createConnection()) {
                jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                session.createProducer(session.createQueue(queue)).send(session.createTextMessage("{}"));
            }
            gauges.refresh();
            gauges.refresh();
            assertThat(log.lines()).hasSize(1);

            try (jakarta.jms.Connection connection = factory.createConnection()) {
                jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.CLIENT_ACKNOWLEDGE);
                session.createConsumer(session.createQueue(queue));   // listening, taking nothing
                gauges.refresh();
                assertThat(registry.find("coordinator_queue_consumers").tag("queue", queue).gauge().value()).isEqualTo(1);
                assertThat(log.lines()).last().isEqualTo("INFO " + queue + ": 1 agent consumer(s) listen on it again");
            }
        }
    }

    @FunctionalInterface
    private interface Step {
        void run() throws Exception;
    }

    /** {@code real}, with {@code before} run before each connection it gives: an outage, or a hang, of a test's making. */
    private static DataSource beforeEachConnection(DataSource real, Step before) {
        return (DataSource) java.lang.reflect.Proxy.newProxyInstance(BacklogGaugesTest.class.getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        before.run();
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
