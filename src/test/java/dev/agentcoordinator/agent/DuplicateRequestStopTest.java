package dev.agentcoordinator.agent;

import jakarta.jms.Connection;
import jakarta.jms.ConnectionFactory;
import jakarta.jms.Message;
import jakarta.jms.MessageConsumer;
import jakarta.jms.MessageProducer;
import jakarta.jms.Queue;
import jakarta.jms.Session;
import jakarta.jms.TextMessage;
import org.apache.activemq.artemis.junit.EmbeddedActiveMQExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same request (one correlation id: the coordinator's "row id:attempt") delivered twice and taken by two consumers
 * of one service at once (docs/agent-protocol.md: "a coordinator re-sending after its own restart, or ... another
 * coordinator re-sending a request whose sending coordinator took longer than the request's lease"). The coordinator
 * then cancels the execution and answers every heartbeat of that attempt with a stop: both handlers must stop.
 */
class DuplicateRequestStopTest {

    @RegisterExtension
    static final EmbeddedActiveMQExtension BROKER = new EmbeddedActiveMQExtension(41);

    @Test
    void aStopReachesEveryHandlerOfTheAttemptNotOnlyTheLatest() throws Exception {
        String agent = "dup-" + UUID.randomUUID().toString().substring(0, 8);
        ConnectionFactory factory = AgentService.artemisConnectionFactory(BROKER.getVmURL());
        CountDownLatch bothStarted = new CountDownLatch(2);
        AtomicInteger interrupted = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        AgentService service = AgentService.builder(factory, agent).concurrency(2).heartbeatEvery(Duration.ofMillis(100))
                .shutdownTimeout(Duration.ofMillis(200))
                .handle("long", request -> {
                    bothStarted.countDown();
                    try {
                        Thread.sleep(20_000);   // a long job: only a stop ends it early
                    } catch (InterruptedException e) {
                        interrupted.incrementAndGet();
                        throw e;
                    }
                    finished.incrementAndGet();
                    return AgentReply.ok(Map.of("done", true));
                }).start();
        try (Connection connection = factory.createConnection()) {
            connection.start();
            Session session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
            MessageProducer producer = session.createProducer(null);
            Queue replies = session.createQueue("test.dup.replies." + agent);
            MessageConsumer replyConsumer = session.createConsumer(replies);
            String correlationId = UUID.randomUUID() + ":1";   // as the coordinator writes it: row id, attempt
            for (int copy = 0; copy < 2; copy++) {   // the request and its re-send
                TextMessage request = session.createTextMessage(StepRequestClient.requestBody(agent, "long", Map.of()));
                request.setJMSCorrelationID(correlationId);
                request.setJMSReplyTo(replies);
                producer.send(session.createQueue(AgentService.queueName(agent)), request);
            }
            assertThat(bothStarted.await(10, TimeUnit.SECONDS)).as("both copies in a handler").isTrue();

            // the execution is cancelled: the coordinator answers each heartbeat of the attempt with a stop, for 3 s
            long until = System.currentTimeMillis() + 3_000;
            int heartbeats = 0;
            while (System.currentTimeMillis() < until) {
                Message heartbeat = replyConsumer.receive(100);
                if (heartbeat != null && heartbeat.getJMSReplyTo() != null) {
                    heartbeats++;
                    TextMessage stop = session.createTextMessage("{\"status\":\"stop\",\"reason\":\"attempt 1 of step s is failed:"
                            + " execution cancelled by request\"}");
                    stop.setJMSCorrelationID(heartbeat.getJMSCorrelationID());
                    producer.send(heartbeat.getJMSReplyTo(), stop);
                }
            }
            assertThat(heartbeats).as("heartbeats answered with a stop").isGreaterThan(0);
            assertThat(interrupted.get()).as("handlers of the cancelled attempt interrupted (finished: %d)", finished.get())
                    .isEqualTo(2);
        } finally {
            service.close();
        }
    }
}
