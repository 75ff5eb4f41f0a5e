package dev.agentcoordinator.agent;

import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.FreePort;
import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.DeliveryMode;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * After the client rode out a broker restart (reconnectAttempts=-1, as the demo agents connect), Artemis calls the
 * connection's ExceptionListener too (error code FAILOVER, after FAILOVER_COMPLETED): the connection is healthy, and a
 * stop waits for the request at work. A first version took that call for a connection cut off, and the stop closed the
 * worker's connection under its handler: its reply was lost and the request handled again (the diff reviewer's test).
 */
class StopAfterFailoverTest {

    @Test
    void aStopAfterARestartTheClientRodeOutWaitsForTheRequestAtWork(@TempDir Path dataDir) throws Exception {
        int port = FreePort.on(EmbeddedBroker.HOST);
        EmbeddedBroker broker = new EmbeddedBroker(port, dataDir);
        String url = broker.start();
        ConnectionFactory factory = dev.agentcoordinator.infra.Messaging.agentConnectionFactory(url, null, null);
        CountDownLatch slowStarted = new CountDownLatch(1);
        AtomicInteger slowRuns = new AtomicInteger();
        AgentService service = AgentService.builder(factory, "failover-stop-agent").concurrency(1)
                .shutdownTimeout(Duration.ofSeconds(20))
                .handle("once", request -> AgentReply.ok(Map.of()))
                .handle("slow", request -> {
                    slowRuns.incrementAndGet();
                    slowStarted.countDown();
                    Thread.sleep(2_000);   // well within the shutdown timeout
                    return AgentReply.ok(Map.of("done", true));
                }).start();
        boolean serviceClosed = false;
        try (Connection connection = factory.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageConsumer replies = session.createConsumer(session.createQueue("test.failover-stop.replies"));

            broker.close();   // a broker restart the agent's client rides out
            broker = new EmbeddedBroker(port, dataDir);
            broker.start();
            send(factory, "once");
            assertThat(replies.receive(60_000)).as("the agent works again after the restart").isNotNull();

            send(factory, "slow");
            assertThat(slowStarted.await(20, TimeUnit.SECONDS)).isTrue();
            service.close();   // a graceful stop: the request at work finishes and replies (README: waits up to the shutdown timeout)
            serviceClosed = true;
            Message reply = replies.receive(10_000);
            assertThat(reply).as("the reply of the request that was at work when close() came").isNotNull();
            assertThat(((TextMessage) reply).getText()).contains("\"done\":true");
        } finally {
            if (!serviceClosed) {
                service.close();
            }
            broker.close();
        }
    }

    private static void send(ConnectionFactory factory, String action) throws Exception {
        try (Connection connection = factory.createConnection()) {
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(session.createQueue(AgentService.queueName("failover-stop-agent")));
            producer.setDeliveryMode(DeliveryMode.PERSISTENT);
            TextMessage request = session.createTextMessage(StepRequestClient.requestBody("failover-stop-agent", action, Map.of()));
            request.setJMSCorrelationID("failover-stop-" + action);
            request.setJMSReplyTo(session.createQueue("test.failover-stop.replies"));
            producer.send(request);
        }
    }
}
