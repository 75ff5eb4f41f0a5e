package dev.agentcoordinator.durability;

import dev.agentcoordinator.StartsChildProcesses;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Case 6: one event delivered 100 times, from four connections at once, starts exactly one execution. */
@StartsChildProcesses
class DuplicateEventTest {
    private static final int DELIVERIES = 100;
    private static final int CONNECTIONS = 4;

    private final OwnedInfrastructure infra = OwnedInfrastructure.shared();

    @Test
    void theSameEventDeliveredAHundredTimesConcurrentlyStartsOneExecution() throws Exception {
        CoordinatorProcess coordinator = CoordinatorProcess.serving(infra);
        String eventId = "dup-" + UUID.randomUUID();
        String body = "{\"type\":\"D_DUP\",\"event_id\":\"" + eventId + "\",\"payload\":{\"n\":1}}";
        try (RecordingAgents agents = new RecordingAgents(infra.connectionFactory()).agent("d-dup", 4, RecordingAgents.okAfter(100))) {
            ExecutorService senders = Executors.newFixedThreadPool(CONNECTIONS);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> sent = new ArrayList<>();
            for (int c = 0; c < CONNECTIONS; c++) {
                sent.add(senders.submit(() -> {
                    try (EventSender sender = new EventSender(infra.connectionFactory())) {
                        go.await();
                        for (int i = 0; i < DELIVERIES / CONNECTIONS; i++) {
                            sender.text("agent.events", body);
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : sent) {
                f.get();
            }
            senders.shutdown();

            await().atMost(Duration.ofSeconds(60)).until(() ->
                    infra.query("SELECT deliveries FROM agent_events WHERE event_key = ?", eventId).stream()
                            .anyMatch(r -> ((Number) r.get("deliveries")).intValue() == DELIVERIES));
            await().atMost(Duration.ofSeconds(60)).until(() -> infra.count(
                    "SELECT count(*) FROM workflow_executions WHERE trigger_event_key = ? AND status = 'completed'", eventId) == 1);
            String executionId = (String) infra.query("SELECT id FROM workflow_executions WHERE trigger_event_key = ?", eventId).get(0).get("id");
            List<RecordingAgents.Request> requests = agents.requests().stream().filter(r -> r.executionId().equals(executionId)).toList();

            System.out.printf("DURABILITY case 6 (duplicate event): %d deliveries from %d connections -> %d execution(s), "
                            + "%d agent requests%n", DELIVERIES, CONNECTIONS,
                    infra.count("SELECT count(*) FROM workflow_executions WHERE trigger_event_key = ?", eventId), requests.size());
            assertThat(infra.count("SELECT count(*) FROM workflow_executions WHERE trigger_event_key = ?", eventId)).isEqualTo(1);
            assertThat(requests).extracting(RecordingAgents.Request::stepId).containsExactlyInAnyOrder("first", "second");
            assertThat(coordinator.isAlive()).isTrue();
        }
    }
}
