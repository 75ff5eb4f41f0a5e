package dev.agentcoordinator.engine;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.agentcoordinator.engine.ExecutionProbe.awaitExecution;
import static dev.agentcoordinator.engine.ExecutionProbe.requests;
import static dev.agentcoordinator.engine.ExecutionProbe.sendReply;
import static dev.agentcoordinator.engine.ScriptedAgents.Reply;
import static dev.agentcoordinator.engine.TestCoordinator.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A completion records its arrival at a fan-in in its own statement (complete-and-start.sql, V12): the
 * first stores the partial join, a later one locks it, so only the arrival that finds every dependency
 * settled passes the aggregator; branches that settle at the same moment still run the joined step
 * exactly once.
 */
class JoinArrivalsInCompletionTest {
    private static final String WORKFLOW = "f_join_arrivals";
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        // "right" is held (no reply) when the trigger says so: the test answers it by hand
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-arrivals-agent", r ->
                r.action().equals("right") && r.input().path("hold").asBoolean()
                        ? List.of()
                        : List.of(Reply.ok(Map.of("side", r.action()))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void theCompletionsStoreAndLockTheJoinAndOnlyTheLastArrivalPassesTheAggregator() throws Exception {
        CamelContext camel = shared().camelContext();
        ArrivalsAtTheFanIn fanIn = new ArrivalsAtTheFanIn();
        camel.getManagementStrategy().addEventNotifier(fanIn);
        fanIn.start();
        try {
            completeLeftAndMiddleThenRight(camel, fanIn);
        } finally {
            camel.getManagementStrategy().removeEventNotifier(fanIn);
        }
    }

    private static void completeLeftAndMiddleThenRight(CamelContext camel, ArrivalsAtTheFanIn fanIn) throws Exception {
        String eventId = sendEvent("F_JOIN_ARRIVALS", "{\"hold\": true}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "completed".equals(stepStatuses(executionOf(eventId)).get("left"))
                && "completed".equals(stepStatuses(executionOf(eventId)).get("middle")));
        String executionId = executionOf(eventId);

        // the join the first of them stored, as the aggregator reads it back from its repository; the
        // second took its row lock (version 2)
        JoinRepository repository = new JoinRepository(shared().dataSource(), FanInRoutes.REPOSITORY);
        repository.start();
        try {
            Exchange join = await().atMost(Duration.ofSeconds(10))
                    .until(() -> repository.get(camel, FanInRoutes.joinKey(executionId, "join")), java.util.Objects::nonNull);
            assertThat(join.getMessage().getHeaders())
                    .containsEntry(Headers.EXECUTION_ID, executionId)
                    .containsEntry(Headers.WORKFLOW_ID, WORKFLOW)
                    .containsEntry(Headers.ROUTE_KEY, WORKFLOW)
                    .containsEntry(FanInRoutes.JOIN_STEP, "join");
            assertThat(join.getMessage().getHeader(JoinArrivals.ARRIVED)).isIn("left", "middle");
            assertThat(query("SELECT version FROM step_joins WHERE id = ?", FanInRoutes.joinKey(executionId, "join")).get(0))
                    .containsEntry("version", 2L);
        } finally {
            repository.stop();
        }
        assertThat(stepStatuses(executionId)).containsEntry("right", "running").containsEntry("join", "pending");

        await().atMost(Duration.ofSeconds(10)).until(() -> !requests(agents, executionId, "right").isEmpty());
        sendReply(requests(agents, executionId, "right").get(0).correlationId(), "{\"status\": \"ok\", \"output\": {\"side\": \"right\"}}");

        awaitExecution(eventId, "completed");
        assertThat(requests(agents, executionId, "join")).hasSize(1)
                .first().satisfies(r -> assertThat(r.input().toString())
                        .contains("\"left\":\"left\"", "\"middle\":\"middle\"", "\"right\":\"right\""));
        assertThat(fanIn.steps).as("arrivals sent to the fan-in: the last one; left's and middle's ended with their completions").containsExactly("right");
        assertThat(query("SELECT id FROM step_joins WHERE id = ?", FanInRoutes.joinKey(executionId, "join"))).isEmpty();
    }

    @Test
    void branchesSettlingAtTheSameMomentRunTheJoinOnce() {
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            events.add(sendEvent("F_JOIN_ARRIVALS", "{\"hold\": false}"));
        }
        for (String eventId : events) {
            String executionId = awaitExecution(eventId, "completed");
            assertThat(requests(agents, executionId, "join")).as("join of %s", executionId).hasSize(1);
        }
        // a join inserted by an arrival whose fan-in another arrival started at the same moment is
        // removed by the stale-join sweep
        await().atMost(Duration.ofSeconds(15)).until(() -> events.stream().map(TestCoordinator::executionOf)
                .allMatch(id -> query("SELECT id FROM step_joins WHERE id = ?", FanInRoutes.joinKey(id, "join")).isEmpty()));
    }

    /** Which steps' arrivals of this workflow were sent to the shared fan-in route. */
    private static final class ArrivalsAtTheFanIn extends EventNotifierSupport {
        final List<Object> steps = new CopyOnWriteArrayList<>();

        @Override
        public void notify(CamelEvent event) {
            if (event instanceof CamelEvent.ExchangeSendingEvent sending
                    && sending.getEndpoint().getEndpointUri().equals(FanInRoutes.FAN_IN.replace("direct:", "direct://"))
                    && WORKFLOW.equals(sending.getExchange().getMessage().getHeader(Headers.WORKFLOW_ID))) {
                steps.add(sending.getExchange().getMessage().getHeader(Headers.STEP_ID));
            }
        }
    }
}
