package dev.agentcoordinator.agent;

import dev.agentcoordinator.infra.EmbeddedBroker;
import dev.agentcoordinator.infra.FreePort;
import jakarta.jms.ConnectionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The heartbeats' connection has no exception listener: after a broker restart the first heartbeat of the next request
 * was tried on the dead connection, failed ("heartbeat for … not sent, trying again at the next one") and was lost, the
 * coordinator hearing from the attempt two intervals after it began. A send that fails on a connection kept from before
 * is tried once more on a new one.
 */
class HeartbeatsAfterBrokerRestartTest {
    @TempDir
    Path dataDir;

    @Test
    void theFirstHeartbeatAfterABrokerRestartLeavesOnTime() throws Exception {
        int port = FreePort.on(EmbeddedBroker.HOST);
        EmbeddedBroker broker = new EmbeddedBroker(port, dataDir);
        String url = broker.start();
        ConnectionFactory factory = AgentService.artemisConnectionFactory(url);
        Map<String, CountDownLatch> release = new ConcurrentHashMap<>();
        release.put("1", new CountDownLatch(1));
        release.put("2", new CountDownLatch(1));
        AgentService service = AgentService.builder(factory, "hb-restart").heartbeatEvery(Duration.ofSeconds(2))
                .handle("long", request -> {
                    release.get(request.inputString("n")).await(30, TimeUnit.SECONDS);
                    return AgentReply.ok(Map.of("n", request.inputString("n")));
                })
                .handleOutput("ping", request -> Map.of("pong", true))
                .start();
        try {
            try (StepRequestClient client = new StepRequestClient(factory)) {
                String first = client.send("hb-restart", "long", Map.of("n", "1"));
                client.awaitHeartbeat(first);   // the heartbeats' connection is open
                release.get("1").countDown();
                client.awaitReply(first);
            }
            broker.close();
            broker = new EmbeddedBroker(port, dataDir);
            broker.start();
            try (StepRequestClient client = new StepRequestClient(factory)) {
                String ping = client.send("hb-restart", "ping", Map.of());
                client.awaitReply(ping);   // the worker reconnected
                long sent = System.nanoTime();
                String second = client.send("hb-restart", "long", Map.of("n", "2"));
                client.awaitHeartbeat(second);
                long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sent);
                release.get("2").countDown();
                client.awaitReply(second);
                assertThat(millis).as("ms from the request to its first heartbeat (interval 2000 ms)").isLessThan(3_000);
            }
        } finally {
            release.values().forEach(CountDownLatch::countDown);
            service.close();
            broker.close();
        }
    }
}
