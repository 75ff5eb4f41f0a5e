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
 * A completion that is the first arrival at a fan-in records the partial join in its own statement
 * (complete-and-start.sql, V12), so only the completing arrival passes the aggregator; arrivals that
 * settle at the same moment still run the joined step exactly once.
 */
class FirstJoinArrivalTest {
    private static final String WORKFLOW = "f_first_arrival";
    private static ScriptedAgents agents;

    @BeforeAll
    static void agents() throws Exception {
        // "right" is held (no reply) when the trigger says so: the test answers it by hand
        agents = new ScriptedAgents(shared().connectionFactory()).agent("f-first-agent", r ->
                r.action().equals("right") && r.input().path("hold").asBoolean()
                        ? List.of()
                        : List.of(Reply.ok(Map.of("side", r.action()))));
    }

    @AfterAll
    static void stop() throws Exception {
        agents.close();
    }

    @Test
    void theFirstArrivalsCompletionStoresTheJoinAndOnlyTheLastArrivalPassesTheAggregator() throws Exception {
        CamelContext camel = shared().camelContext();
        ArrivalsAtTheFanIn fanIn = new ArrivalsAtTheFanIn();
        camel.getManagementStrategy().addEventNotifier(fanIn);
        fanIn.start();
        try {
            sendLeftThenRight(camel, fanIn);
        } finally {
            camel.getManagementStrategy().removeEventNotifier(fanIn);
        }
    }

    private static void sendLeftThenRight(CamelContext camel, ArrivalsAtTheFanIn fanIn) throws Exception {
        String eventId = sendEvent("F_FIRST_ARRIVAL", "{\"hold\": true}");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(eventId) != null
                && "completed".equals(stepStatuses(executionOf(eventId)).get("left")));
        String executionId = executionOf(eventId);

        // the join "left" arrived at, as the aggregator reads it back from its repository
        JoinRepository repository = new JoinRepository(shared().dataSource(), FanInRoutes.REPOSITORY);
        repository.start();
        try {
            Exchange join = await().atMost(Duration.ofSeconds(10))
                    .until(() -> repository.get(camel, FanInRoutes.joinKey(executionId, "join")), java.util.Objects::nonNull);
            assertThat(join.getMessage().getHeaders())
                    .containsEntry(Headers.EXECUTION_ID, executionId)
                    .containsEntry(Headers.WORKFLOW_ID, WORKFLOW)
                    .containsEntry(Headers.ROUTE_KEY, WORKFLOW)
                    .containsEntry(FanInRoutes.JOIN_STEP, "join")
                    .containsEntry(JoinArrivals.ARRIVED, "left");
        } finally {
            repository.stop();
        }
        assertThat(stepStatuses(executionId)).containsEntry("right", "running").containsEntry("join", "pending");

        await().atMost(Duration.ofSeconds(10)).until(() -> !requests(agents, executionId, "right").isEmpty());
        sendReply(requests(agents, executionId, "right").get(0).correlationId(), "{\"status\": \"ok\", \"output\": {\"side\": \"right\"}}");

        awaitExecution(eventId, "completed");
        assertThat(requests(agents, executionId, "join")).hasSize(1)
                .first().satisfies(r -> assertThat(r.input().toString()).contains("\"left\":\"left\"", "\"right\":\"right\""));
        assertThat(fanIn.steps).as("arrivals sent to the fan-in: the last one; left's ended with its completion").containsExactly("right");
        assertThat(query("SELECT id FROM step_joins WHERE id = ?", FanInRoutes.joinKey(executionId, "join"))).isEmpty();
    }

    @Test
    void branchesSettlingAtTheSameMomentRunTheJoinOnce() {
        List<String> events = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            events.add(sendEvent("F_FIRST_ARRIVAL", "{\"hold\": false}"));
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
