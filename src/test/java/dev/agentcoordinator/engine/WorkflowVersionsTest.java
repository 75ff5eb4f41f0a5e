package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.InvalidDefinitionsException;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.ProducerTemplate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.agentcoordinator.engine.OwnCoordinatorProbe.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * An execution runs to its end on the version of its workflow it started on, across a restart with
 * another version, while new executions start on the new one. Its own coordinators on its own data
 * folder: the version of a workflow changes between them.
 */
class WorkflowVersionsTest {
    private static final String V1 = """
            id: versioned
            name: Versioned workflow
            trigger: VERSIONED
            version: 1
            onSuccess: VERSIONED_V1_DONE
            config: { timeout_ms: 60000 }
            steps:
              - id: first
                agent: versioned-first
                action: first
              - id: second
                agent: versioned-second
                action: second
                depends_on: [first]
                config: { retry_count: 1, retry_backoff_ms: 50 }
            """;
    /** second moves to another agent, third is new, and the outcome event is another. */
    private static final String V2 = """
            id: versioned
            name: Versioned workflow
            trigger: VERSIONED
            version: 2
            onSuccess: VERSIONED_V2_DONE
            config: { timeout_ms: 60000 }
            steps:
              - id: first
                agent: versioned-first
                action: first
              - id: second
                agent: versioned-second-v2
                action: second
                depends_on: [first]
              - id: third
                agent: versioned-third
                action: third
                depends_on: [second]
            """;

    @TempDir
    Path folder;
    /** The data folder version 1's coordinator left ({@link #runVersion1}), run once for the class: each test runs on a copy. */
    @TempDir
    static Path version1Folder;
    private static Version1Executions version1;

    @Test
    void anExecutionEndsOnTheVersionItStartedOnWhileNewOnesStartOnTheNext() throws Exception {
        Path data = Files.createDirectory(folder.resolve("data"));
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        Version1Executions onVersion1 = runVersion1(data, workflows);
        String before = onVersion1.waiting();
        String failed = onVersion1.failed();

        Files.writeString(workflows.resolve("versioned.yaml"), V2);
        String stillRunning;
        try (RunningCoordinator v2 = CoordinatorApp.start(settings(data, workflows))) {
            assertThat(v2.camelContext().getRoute("wf.versioned~v1.second")).isNotNull();
            assertThat(v2.summary()).contains("versioned version 1: kept for the executions that started on it (routes wf.versioned~v1.*)");
            HttpResponse<String> listed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(v2.httpUrl() + "/api/workflows")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(Json.parse(listed.body()).path("kept_versions").toString())
                    .isEqualTo("[{\"workflow_id\":\"versioned\",\"version\":1,\"routes\":\"wf.versioned~v1.*\","
                            + "\"executions_in_flight\":1}]");   // the one waiting; the failed one keeps it for a retry only
            AtomicInteger secondCalls = new AtomicInteger();
            try (ScriptedAgents agents = new ScriptedAgents(v2.connectionFactory())) {
                agents.echo("versioned-first", r -> Map.of("done", "first"))
                        // the earlier version's retry: its next attempt goes out from the retry sweep
                        .agent("versioned-second", r -> List.of(secondCalls.incrementAndGet() == 1
                                ? ScriptedAgents.Reply.error("busy", true) : ScriptedAgents.Reply.ok(Map.of("done", "second v1"))))
                        .echo("versioned-second-v2", r -> Map.of("done", "second v2"))
                        .echo("versioned-third", r -> Map.of("done", "third"));
                String afterEvent = send(v2, "VERSIONED");
                await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(status(v2, before))
                        && "completed".equals(status(v2, executionOf(v2, afterEvent))));
                String after = executionOf(v2, afterEvent);

                assertThat(steps(v2, before)).containsExactly("first:completed", "second:completed");
                assertThat(steps(v2, after)).containsExactly("first:completed", "second:completed", "third:completed");
                assertThat(version(v2, before)).isEqualTo(1);
                assertThat(version(v2, after)).isEqualTo(2);
                assertThat(agents.received()).filteredOn(r -> r.request().path("execution_id").asText().equals(before))
                        .extracting(ScriptedAgents.Received::agent)
                        .containsExactly("versioned-first", "versioned-second", "versioned-second");
                assertThat(agents.received()).filteredOn(r -> r.request().path("execution_id").asText().equals(after))
                        .extracting(ScriptedAgents.Received::agent)
                        .containsExactly("versioned-first", "versioned-second-v2", "versioned-third");
                // each announces its end with the event of its own version
                await().atMost(Duration.ofSeconds(10)).until(() -> outcome(v2, before) != null && outcome(v2, after) != null);
                assertThat(outcome(v2, before)).isEqualTo("VERSIONED_V1_DONE");
                assertThat(outcome(v2, after)).isEqualTo("VERSIONED_V2_DONE");
            }
            assertThat(status(v2, failed)).as("a failed execution keeps no version running").isEqualTo("failed");
            stillRunning = startAndAwaitFirstStep(v2);
        }

        // version 2 changed without a new version while an execution runs on it: which one it should follow is unknown
        Files.writeString(workflows.resolve("versioned.yaml"), V2.replace("agent: versioned-third", "agent: somebody-else"));
        assertThatThrownBy(() -> CoordinatorApp.start(settings(data, workflows)).close())
                .isInstanceOf(InvalidDefinitionsException.class)
                .hasMessageContaining("versioned.yaml: version: 2 is not the version 2 that 1 running execution(s) of workflow"
                        + " versioned started on")
                .hasMessageContaining("give the changed definition a new version");

        // with a new version it starts, and the execution goes on with version 2
        Files.writeString(workflows.resolve("versioned.yaml"), V2.replace("agent: versioned-third", "agent: somebody-else")
                .replace("version: 2", "version: 3"));
        try (RunningCoordinator v3 = CoordinatorApp.start(settings(data, workflows));
             ScriptedAgents agents = new ScriptedAgents(v3.connectionFactory())) {
            assertThat(v3.camelContext().getRoute("wf.versioned~v2.third")).isNotNull();
            assertThat(v3.camelContext().getRoute("wf.versioned~v1.second")).as("no execution runs on version 1 any more").isNull();
            assertThat(status(v3, stillRunning)).isEqualTo("running");

            // the retry of an execution of version 1 reads that version back and runs it
            agents.echo("versioned-second", r -> Map.of("done", "second v1, retried"));
            HttpResponse<String> retry = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(v3.httpUrl() + "/api/executions/" + failed + "/retry")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(v3, failed)));
            assertThat(steps(v3, failed)).containsExactly("first:completed", "second:completed");
            assertThat(agents.received()).extracting(ScriptedAgents.Received::agent).containsExactly("versioned-second");
            assertThat(v3.camelContext().getRoute("wf.versioned~v1.second")).isNotNull();
            await().atMost(Duration.ofSeconds(10)).until(() -> "VERSIONED_V1_DONE".equals(outcome(v3, failed)));
        }
    }

    @Test
    void theRoutesOfAVersionNoExecutionRunsOnAnyMoreAreRemovedAndComeBackWhenItIsMetAgain() throws Exception {
        Path data = Files.createDirectory(folder.resolve("data"));
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        Version1Executions onVersion1 = runVersion1(data, workflows);
        String waiting = onVersion1.waiting();
        String failed = onVersion1.failed();

        Files.writeString(workflows.resolve("versioned.yaml"), V2);
        try (RunningCoordinator v2 = CoordinatorApp.start(settings(data, workflows)
                .with(Map.of("coordinator.versions.retire-period-ms", "100")));
             ScriptedAgents agents = new ScriptedAgents(v2.connectionFactory())) {
            // an execution still runs on version 1: its routes stay, sweep after sweep
            await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(5))
                    .until(() -> routesOfVersion1(v2) > 0 && keptVersions(v2).contains("\"version\":1"));

            agents.echo("versioned-first", r -> Map.of("done", "first"))
                    .echo("versioned-second", r -> Map.of("done", "second v1"));
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(v2, waiting)));
            await().atMost(Duration.ofSeconds(10)).until(() -> routesOfVersion1(v2) == 0);
            assertThat(keptVersions(v2)).isEqualTo("[]");
            assertThat(v2.camelContext().getRoute("wf.versioned.third")).as("the loaded version's routes stay").isNotNull();

            // the retry of the failed execution meets version 1 again: read back, run, and retired once more
            HttpResponse<String> retry = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(v2.httpUrl() + "/api/executions/" + failed + "/retry")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(v2, failed)));
            assertThat(steps(v2, failed)).containsExactly("first:completed", "second:completed");
            assertThat(agents.received()).filteredOn(r -> r.request().path("execution_id").asText().equals(failed))
                    .extracting(ScriptedAgents.Received::agent).containsExactly("versioned-second");
            await().atMost(Duration.ofSeconds(10)).until(() -> "VERSIONED_V1_DONE".equals(outcome(v2, failed)));
            await().atMost(Duration.ofSeconds(10)).until(() -> routesOfVersion1(v2) == 0);

            // a coordinator that started while this one's sessions were gone (a database restart) deleted its runner
            // row as not alive: the next retirement sweep records it again
            assertThat(query(v2, "DELETE FROM workflow_definition_runners WHERE workflow_id = 'versioned' RETURNING 1")).isNotEmpty();
            await().atMost(Duration.ofSeconds(10)).until(() -> !runners(v2).isEmpty());
        }
    }

    /**
     * A coordinator on version 1 stored an execution and died before its root's request left; its
     * trigger event comes back to a coordinator on version 2, which re-checks the root on version 1's
     * routes: it had been left to its attempt timeout (or forever, for a root that starts pending).
     */
    @Test
    void aRepeatedEventReChecksTheRootsOfItsExecutionOnTheVersionItStartedOn() throws Exception {
        Path data = Files.createDirectory(folder.resolve("data"));
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        String waiting = runVersion1(data, workflows).waiting();

        Files.writeString(workflows.resolve("versioned.yaml"), V2);
        // sweeps at 1 s: the stalled-execution sweep (50 periods) would start the root itself within the test
        try (RunningCoordinator v2 = CoordinatorApp.start(settings(data, workflows).with(Map.of("supervisor.period-ms", "1000")))) {
            // as if version 1's coordinator had stored the execution and died before starting its root
            await().atMost(Duration.ofSeconds(10)).until(() -> dropRequestOfFirst(v2, waiting));
            query(v2, "UPDATE workflow_step_executions SET status = 'pending', attempt = 0, input = NULL, started_at = NULL,"
                    + " deadline = NULL, handled_by = NULL, dispatched_by = NULL WHERE execution_id = ? AND step_id = 'first' RETURNING id",
                    waiting);
            query(v2, "DELETE FROM step_attempts WHERE execution_id = ? AND step_id = 'first' RETURNING attempt", waiting);
            String eventKey = (String) query(v2, "SELECT trigger_event_key FROM workflow_executions WHERE id = ?", waiting)
                    .get(0).get("trigger_event_key");

            try (ScriptedAgents agents = new ScriptedAgents(v2.connectionFactory())) {
                agents.echo("versioned-first", r -> Map.of("done", "first"))
                        .echo("versioned-second", r -> Map.of("done", "second v1"));
                ProducerTemplate producer = v2.camelContext().createProducerTemplate();
                producer.sendBody("jms:queue:agent.events", "{\"type\":\"VERSIONED\",\"event_id\":\"" + eventKey + "\",\"payload\":{}}");
                await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(v2, waiting)));
                assertThat(steps(v2, waiting)).containsExactly("first:completed", "second:completed");
                assertThat(agents.received()).extracting(ScriptedAgents.Received::agent)
                        .containsExactly("versioned-first", "versioned-second");
                await().atMost(Duration.ofSeconds(10)).until(() -> "VERSIONED_V1_DONE".equals(outcome(v2, waiting)));
            }
        }
    }

    /** Takes the request of the execution's first step off its queue (as if it never left); true once it did. */
    private static boolean dropRequestOfFirst(RunningCoordinator coordinator, String executionId) {
        ConsumerTemplate consumer = coordinator.camelContext().createConsumerTemplate();
        try {
            String request = consumer.receiveBody("jms:queue:agent.versioned-first", 1000, String.class);
            return request != null && request.contains(executionId);
        } finally {
            try {
                consumer.stop();
            } catch (Exception ignored) {
                // a template of this test only
            }
        }
    }

    /** An execution that failed on version 1 and one whose first step waits (no agent runs), then the coordinator stops. */
    private record Version1Executions(String failed, String waiting) {
    }

    /**
     * The executions of {@link #runVersion1}, on a copy of the data folder (broker and database) its coordinator left:
     * each test goes on from the same stopped coordinator, which runs and stops once for the class.
     */
    private static synchronized Version1Executions runVersion1(Path data, Path workflows) throws Exception {
        Path ranOnce = version1Folder.resolve("data");
        if (version1 == null) {
            version1 = runVersion1Once(Files.createDirectory(ranOnce), Files.createDirectory(version1Folder.resolve("workflows")));
        }
        try (java.util.stream.Stream<Path> paths = Files.walk(ranOnce)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path target = data.resolve(ranOnce.relativize(path).toString());
                if (!Files.exists(target)) {   // the data folder itself
                    Files.copy(path, target, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        Files.writeString(workflows.resolve("versioned.yaml"), V1);
        return version1;
    }

    private static Version1Executions runVersion1Once(Path data, Path workflows) throws Exception {
        Files.writeString(workflows.resolve("versioned.yaml"), V1);
        try (RunningCoordinator v1 = CoordinatorApp.start(settings(data, workflows))) {
            String failed;
            try (ScriptedAgents agents = new ScriptedAgents(v1.connectionFactory())) {
                agents.echo("versioned-first", r -> Map.of("done", "first"))
                        .agent("versioned-second", r -> List.of(ScriptedAgents.Reply.error("refused", false)));
                String failedEvent = send(v1, "VERSIONED");
                await().atMost(Duration.ofSeconds(20)).until(() -> "failed".equals(status(v1, executionOf(v1, failedEvent))));
                failed = executionOf(v1, failedEvent);
            }
            return new Version1Executions(failed, startAndAwaitFirstStep(v1));   // its request waits on agent.versioned-first
        }
    }

    private static long routesOfVersion1(RunningCoordinator coordinator) {
        return coordinator.camelContext().getRoutes().stream().filter(r -> r.getRouteId().startsWith("wf.versioned~v1")).count();
    }

    private static String keptVersions(RunningCoordinator coordinator) throws Exception {
        HttpResponse<String> listed = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(coordinator.httpUrl() + "/api/workflows")).build(), HttpResponse.BodyHandlers.ofString());
        return Json.parse(listed.body()).path("kept_versions").toString();
    }

    @Test
    void aChangedDefinitionUnderItsVersionIsRefusedWhileAnotherLiveCoordinatorRunsTheRecordedOne() throws Exception {
        // the broker and database belong to a coordinator that runs another workflow, so they outlive the others
        Path owned = Files.createDirectory(folder.resolve("owner"));
        Files.writeString(owned.resolve("other.yaml"), V1.replace("id: versioned", "id: other").replace("trigger: VERSIONED", "trigger: OTHER"));
        Path recorded = Files.createDirectory(folder.resolve("recorded"));
        Files.writeString(recorded.resolve("versioned.yaml"), V2);
        Path changed = Files.createDirectory(folder.resolve("changed"));
        Files.writeString(changed.resolve("versioned.yaml"), V2.replace("agent: versioned-third", "agent: somebody-else"));
        try (RunningCoordinator owner = CoordinatorApp.start(settings(Files.createDirectory(folder.resolve("data")), owned))) {
            try (RunningCoordinator first = CoordinatorApp.start(sharing(owner, recorded, "first"))) {
                // no execution runs on version 2: before, the changed definition replaced the recorded one under `first`
                assertThatThrownBy(() -> CoordinatorApp.start(sharing(owner, changed, "second")).close())
                        .isInstanceOf(InvalidDefinitionsException.class)
                        .hasMessageContaining("versioned.yaml: version: 2 is not the version 2 that the running coordinator(s) first (since ")
                        .hasMessageContaining("give the changed definition a new version, or stop them first");
                assertThat(definedAgents(owner)).as("the recorded definition stays").contains("versioned-third").doesNotContain("somebody-else");

                try (RunningCoordinator same = CoordinatorApp.start(sharing(owner, recorded, "same"))) {
                    assertThat(runners(owner)).containsExactlyInAnyOrder("first", "same");
                }

                // changed in its words for people only (its name, a step's description), it runs alike: taken, and recorded
                Path worded = Files.createDirectory(folder.resolve("worded"));
                Files.writeString(worded.resolve("versioned.yaml"), V2.replace("name: Versioned workflow", "name: Versioned, renamed")
                        .replace("action: third", "action: third\n    description: the third step, described"));
                try (RunningCoordinator renamed = CoordinatorApp.start(sharing(owner, worded, "renamed"))) {
                    assertThat(definedAgents(owner)).contains("Versioned, renamed", "the third step, described", "versioned-third");
                    assertThat(runners(owner)).containsExactlyInAnyOrder("first", "renamed");
                }
            }
            // the coordinators that ran it are gone (no session left): the changed definition takes its place
            await().atMost(Duration.ofSeconds(20)).until(() -> query(owner,
                    "SELECT 1 FROM pg_stat_activity WHERE application_name IN ('first', 'same')").isEmpty());
            try (RunningCoordinator second = CoordinatorApp.start(sharing(owner, changed, "second"))) {
                assertThat(definedAgents(owner)).contains("somebody-else");
                assertThat(runners(owner)).containsExactly("second");
            }
        }
    }

    /** A coordinator on the broker and database of {@code owner}, with its own instance id. */
    private CoordinatorSettings sharing(RunningCoordinator owner, Path workflows, String instanceId) throws Exception {
        return TestCoordinator.sharing(owner, workflows, Files.createTempDirectory(folder, "data-" + instanceId), instanceId);
    }

    private static String definedAgents(RunningCoordinator coordinator) {
        return (String) query(coordinator, "SELECT definition::text AS d FROM workflow_definitions WHERE workflow_id = 'versioned'"
                + " AND version = 2").get(0).get("d");
    }

    private static List<String> runners(RunningCoordinator coordinator) {
        return query(coordinator, "SELECT instance_id FROM workflow_definition_runners WHERE workflow_id = 'versioned'").stream()
                .map(r -> (String) r.get("instance_id")).toList();
    }

    private static CoordinatorSettings settings(Path data, Path workflows) {
        return TestCoordinator.settings(data, workflows);
    }

    private static String startAndAwaitFirstStep(RunningCoordinator coordinator) {
        String eventId = send(coordinator, "VERSIONED");
        await().atMost(Duration.ofSeconds(20)).until(() -> executionOf(coordinator, eventId) != null
                && steps(coordinator, executionOf(coordinator, eventId)).contains("first:running"));
        return executionOf(coordinator, eventId);
    }
}
