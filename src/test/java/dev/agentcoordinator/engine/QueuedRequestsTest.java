package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.infra.FreePort;
import org.apache.activemq.artemis.jms.client.ActiveMQConnectionFactory;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;

import static org.assertj.core.api.Assertions.assertThat;

class QueuedRequestsTest {

    @Test
    void theFilterMatchesEachRequestsCorrelationIdWithOrWithoutItsSuffix() {
        assertThat(QueuedRequests.filter(List.of("r1:2", "r'3:1")))
                .isEqualTo("JMSCorrelationID = 'r1:2' OR JMSCorrelationID LIKE 'r1:2@%'"
                        + " OR JMSCorrelationID = 'r''3:1' OR JMSCorrelationID LIKE 'r''3:1@%'");
    }

    /**
     * Requests that could not be withdrawn (here: no broker answers) are told in a WARN line, at most one every 30 s:
     * at DEBUG only, an operator never learnt that agents may work for attempts that no longer count.
     */
    @Test
    void aWithdrawalThatFailsIsToldOnceInAWhile(@org.junit.jupiter.api.io.TempDir Path folder) throws Exception {
        WorkflowCatalog catalog = oneStepOfAgentWorker(folder);
        ActiveMQConnectionFactory nowhere = new ActiveMQConnectionFactory("tcp://127.0.0.1:" + FreePort.on("127.0.0.1")
                + "?initialConnectAttempts=1&reconnectAttempts=0&retryInterval=10");
        QueuedRequests requests = new QueuedRequests(nowhere, catalog, new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                new long[] {10, 10});
        org.apache.logging.log4j.Level was = org.apache.logging.log4j.LogManager.getLogger(Endpoints.PROGRESS_LOG).getLevel();
        org.apache.logging.log4j.core.config.Configurator.setLevel(Endpoints.PROGRESS_LOG, org.apache.logging.log4j.Level.DEBUG);
        try (CapturedLog log = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            for (int i = 0; i < 3; i++) {
                requests.withdrawAll(List.of(Map.of("workflow_id", "w", "workflow_version", 1, "execution_id", "e-" + i,
                        "kind", "step", "step_id", "a", "request", "row-" + i + ":1")));
            }
            await().atMost(Duration.ofSeconds(20)).until(() -> log.lines().stream().filter(l -> l.contains("not withdrawn from") || l.contains("queued requests not withdrawn:")).count() >= 3);
            assertThat(log.atLeast(org.apache.logging.log4j.Level.WARN)).singleElement().asString()
                    .startsWith("WARN execution e-0: requests no agent had taken were not withdrawn from their queue (")
                    .contains("; tried 3 times)")
                    .endsWith("an agent that takes one works for an attempt that no longer counts, and its reply is ignored");
        } finally {
            org.apache.logging.log4j.core.config.Configurator.setLevel(Endpoints.PROGRESS_LOG, was);
            nowhere.close();
        }
    }

    /**
     * A withdrawal that cannot reach the broker (a cancel in a broker outage) is tried again, and takes the request back
     * once the broker answers: it took back nothing, and agents received the cancelled execution's requests after the outage.
     */
    @Test
    void aWithdrawalInABrokerOutageIsTriedAgainOnceTheBrokerIsBack(@org.junit.jupiter.api.io.TempDir Path folder) throws Exception {
        WorkflowCatalog catalog = oneStepOfAgentWorker(folder);
        int port = FreePort.on("127.0.0.1");
        Path journal = Files.createDirectories(folder.resolve("broker"));
        String url = "tcp://127.0.0.1:" + port + "?initialConnectAttempts=1&reconnectAttempts=0&retryInterval=10";
        try (dev.agentcoordinator.infra.EmbeddedBroker broker = new dev.agentcoordinator.infra.EmbeddedBroker(port, journal)) {
            broker.start();
            try (ActiveMQConnectionFactory client = new ActiveMQConnectionFactory(url);
                 jakarta.jms.Connection connection = client.createConnection()) {
                jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                jakarta.jms.TextMessage request = session.createTextMessage("{}");
                request.setJMSCorrelationID("row-1:1@w~v1/a/1");
                session.createProducer(session.createQueue("agent.worker")).send(request);
            }
        }
        ActiveMQConnectionFactory management = new ActiveMQConnectionFactory(url);
        io.micrometer.core.instrument.simple.SimpleMeterRegistry meters = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        QueuedRequests requests = new QueuedRequests(management, catalog, meters, new long[] {500, 500, 500, 500, 500, 500, 500, 500,
                500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500});
        org.apache.logging.log4j.Level was = org.apache.logging.log4j.LogManager.getLogger(Endpoints.PROGRESS_LOG).getLevel();
        org.apache.logging.log4j.core.config.Configurator.setLevel(Endpoints.PROGRESS_LOG, org.apache.logging.log4j.Level.DEBUG);
        try (CapturedLog log = CapturedLog.of(Endpoints.PROGRESS_LOG)) {
            requests.withdrawAll(List.of(Map.of("workflow_id", "w", "workflow_version", 1, "execution_id", "e-1",
                    "kind", "step", "step_id", "a", "request", "row-1:1")));
            await().atMost(Duration.ofSeconds(10)).until(() -> log.lines().stream().anyMatch(line -> line.contains("not withdrawn yet")));
        } finally {
            org.apache.logging.log4j.core.config.Configurator.setLevel(Endpoints.PROGRESS_LOG, was);
        }
        try (dev.agentcoordinator.infra.EmbeddedBroker broker = new dev.agentcoordinator.infra.EmbeddedBroker(port, journal)) {
            broker.start();
            try (ActiveMQConnectionFactory client = new ActiveMQConnectionFactory(url);
                 jakarta.jms.Connection connection = client.createConnection()) {
                connection.start();
                jakarta.jms.Session session = connection.createSession(false, jakarta.jms.Session.AUTO_ACKNOWLEDGE);
                // withdrawn by the coordinator (counted), not lost with the restart
                await().atMost(Duration.ofSeconds(10)).until(() -> meters.find("coordinator_requests_withdrawn").tag("queue", "agent.worker")
                        .counter() != null && meters.get("coordinator_requests_withdrawn").tag("queue", "agent.worker").counter().count() == 1);
                try (jakarta.jms.QueueBrowser browser = session.createBrowser(session.createQueue("agent.worker"))) {
                    assertThat(browser.getEnumeration().hasMoreElements()).isFalse();
                }
            }
        } finally {
            management.close();
        }
    }

    /** Workflow w of one step, a, of agent worker (requests on agent.worker), loaded from {@code folder}. */
    private static WorkflowCatalog oneStepOfAgentWorker(Path folder) throws Exception {
        Files.writeString(folder.resolve("w.yaml"), """
                id: w
                name: W
                trigger: W
                steps:
                  - { id: a, agent: worker, action: run }
                """);
        return WorkflowCatalog.load(folder);
    }
}
