package dev.agentcoordinator.engine;

import com.fasterxml.jackson.databind.JsonNode;
import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
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

import static dev.agentcoordinator.engine.OwnCoordinatorProbe.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * POST /api/workflows/reload: a running coordinator takes new workflows, new versions and removed files
 * from its folder; executions in flight end on the version they started on; a wrong folder changes nothing.
 * Its own coordinator on its own data folder.
 */
class WorkflowReloadTest {
    private static final String V1 = """
            id: reloaded
            name: Reloaded workflow
            trigger: RELOADED
            version: 1
            onSuccess: RELOADED_V1_DONE
            steps:
              - id: first
                agent: reload-first
                action: first
              - id: second
                agent: reload-second
                action: second
                depends_on: [first]
            """;
    /** third is new, and the outcome event is another. */
    private static final String V2 = """
            id: reloaded
            name: Reloaded workflow
            trigger: RELOADED
            version: 2
            onSuccess: RELOADED_V2_DONE
            steps:
              - id: first
                agent: reload-first
                action: first
              - id: second
                agent: reload-second
                action: second
                depends_on: [first]
              - id: third
                agent: reload-third
                action: third
                depends_on: [second]
            """;
    private static final String ADDED = """
            id: added
            name: Added workflow
            trigger: ADDED
            steps:
              - id: only
                agent: reload-added
                action: only
            """;

    @TempDir
    Path folder;
    /** The workflow folder of the test's coordinator ({@link #startWith}). */
    private Path workflows;

    /** A coordinator of the test's own, on a folder that holds one file, {@code name}, as given. */
    private RunningCoordinator startWith(String name, String definition, Map<String, String> settings) throws Exception {
        workflows = Files.createDirectory(folder.resolve("workflows"));
        Files.writeString(workflows.resolve(name), definition);
        return CoordinatorApp.start(TestCoordinator.settings(Files.createDirectory(folder.resolve("data")), workflows).with(settings));
    }

    @Test
    void aReloadStartsNewExecutionsOnTheNewVersionWhileThoseInFlightEndOnTheirs() throws Exception {
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of("coordinator.versions.retire-period-ms", "100"));
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            agents.echo("reload-first", r -> Map.of("done", r.action()));
            String before = startedBy(coordinator, send(coordinator, "RELOADED"));
            await().atMost(Duration.ofSeconds(20)).until(() -> steps(coordinator, before).contains("second:running"));

            Files.writeString(workflows.resolve("reloaded.yaml"), V2);
            HttpResponse<String> reloaded = reload(coordinator);
            assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            assertThat(Json.parse(reloaded.body()).path("changed").toString())
                    .isEqualTo("[{\"workflow_id\":\"reloaded\",\"from_version\":1,\"to_version\":2}]");
            assertThat(coordinator.camelContext().getRoute("wf.reloaded~v2.third")).isNotNull();
            assertThat(coordinator.camelContext().getRoute("wf.reloaded.second")).as("version 1's, in use").isNotNull();
            assertThat(workflowsListed(coordinator).path("workflows").get(0).path("version").asInt()).isEqualTo(2);
            assertThat(workflowsListed(coordinator).path("kept_versions").toString()).as("kept for the execution on it")
                    .isEqualTo("[{\"workflow_id\":\"reloaded\",\"version\":1,\"routes\":\"wf.reloaded.*\",\"executions_in_flight\":1}]");

            String after = startedBy(coordinator, send(coordinator, "RELOADED"));
            agents.echo("reload-second", r -> Map.of("done", "second")).echo("reload-third", r -> Map.of("done", "third"));
            await().atMost(Duration.ofSeconds(30)).until(() -> "completed".equals(status(coordinator, before))
                    && "completed".equals(status(coordinator, after)));
            assertThat(steps(coordinator, before)).containsExactly("first:completed", "second:completed");
            assertThat(steps(coordinator, after)).containsExactly("first:completed", "second:completed", "third:completed");
            assertThat(version(coordinator, before)).isEqualTo(1);
            assertThat(version(coordinator, after)).isEqualTo(2);
            await().atMost(Duration.ofSeconds(10)).until(() -> outcome(coordinator, before) != null && outcome(coordinator, after) != null);
            assertThat(outcome(coordinator, before)).isEqualTo("RELOADED_V1_DONE");
            assertThat(outcome(coordinator, after)).isEqualTo("RELOADED_V2_DONE");

            // no execution runs on version 1 any more: the retirement sweep removes its routes, and only those
            await().atMost(Duration.ofSeconds(10)).until(() -> routes(coordinator, "wf.reloaded.").isEmpty()
                    && routes(coordinator, "wf.reloaded~start").isEmpty());
            assertThat(routes(coordinator, "wf.reloaded~v2")).contains("wf.reloaded~v2~start", "wf.reloaded~v2.third");
            String later = startedBy(coordinator, send(coordinator, "RELOADED"));
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(coordinator, later)));
            assertThat(steps(coordinator, later)).containsExactly("first:completed", "second:completed", "third:completed");
        }
    }

    @Test
    void aReloadAddsAndRemovesWorkflowsAndAWrongFolderChangesNothing() throws Exception {
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of("coordinator.metrics.refresh-ms", "200"));
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            agents.echo("reload-first", r -> Map.of("done", r.action())).echo("reload-second", r -> Map.of("done", "second"))
                    .echo("reload-added", r -> Map.of("done", r.action()));

            // a wrong file: every problem named, nothing loaded
            Files.writeString(workflows.resolve("added.yaml"), ADDED.replace("agent: reload-added", "agent: reload-added\n    depends_on: [ony]"));
            HttpResponse<String> refused = reload(coordinator);
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
            assertThat(Json.parse(refused.body()).path("problems").toString())
                    .contains("added.yaml").contains("only").contains("depends_on").contains("did you mean \\\"only\\\"?");
            assertThat(workflowsListed(coordinator).path("workflows")).hasSize(1);

            // a definition changed under the version it runs with: refused, naming the version
            Files.writeString(workflows.resolve("added.yaml"), ADDED);
            Files.writeString(workflows.resolve("reloaded.yaml"), V1.replace("action: second", "action: second_changed"));
            refused = reload(coordinator);
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(422);
            assertThat(Json.parse(refused.body()).path("problems").get(0).asText())
                    .startsWith("reloaded.yaml: version: 1 is the version this coordinator runs workflow reloaded with, defined otherwise");
            assertThat(workflowsListed(coordinator).path("workflows")).hasSize(1);

            Files.writeString(workflows.resolve("reloaded.yaml"), V1);
            HttpResponse<String> added = reload(coordinator);
            assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
            assertThat(Json.parse(added.body()).toString()).isEqualTo("{\"added\":[{\"workflow_id\":\"added\",\"version\":1}],"
                    + "\"changed\":[],\"removed\":[],\"unchanged\":[\"reloaded\"],\"other_coordinators\":[]}");
            String addedExecution = startedBy(coordinator, send(coordinator, "ADDED"));
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(coordinator, addedExecution)));
            assertThat(steps(coordinator, addedExecution)).containsExactly("only:completed");
            // the backlog gauges take the agents a reload brought
            io.micrometer.core.instrument.MeterRegistry meters = coordinator.camelContext().getRegistry()
                    .findSingleByType(io.micrometer.prometheusmetrics.PrometheusMeterRegistry.class);
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    meters.find("coordinator_queue_consumers").tag("queue", "agent.reload-added").gauge() != null);

            Files.delete(workflows.resolve("added.yaml"));
            HttpResponse<String> removed = reload(coordinator);
            assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
            assertThat(Json.parse(removed.body()).path("removed").toString()).isEqualTo("[{\"workflow_id\":\"added\",\"version\":1}]");
            String ignored = send(coordinator, "ADDED");
            await().atMost(Duration.ofSeconds(20)).until(() -> !query(coordinator, "SELECT 1 FROM agent_events WHERE event_key = ?", ignored).isEmpty());
            assertThat(startedBy(coordinator, ignored)).as("its trigger starts nothing more").isNull();

            // the workflow loaded at start still runs as it did
            String still = startedBy(coordinator, send(coordinator, "RELOADED"));
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(coordinator, still)));
            assertThat(reload(coordinator).body()).isEqualTo("{\"added\":[],\"changed\":[],\"removed\":[],\"unchanged\":[\"reloaded\"],\"other_coordinators\":[]}");

            // from Hawtio: the operation of dev.agentcoordinator:type=workflows, through Jolokia
            Files.writeString(workflows.resolve("added.yaml"), ADDED);
            String mbean = "dev.agentcoordinator:type=workflows,context=" + javax.management.ObjectName.quote(
                    coordinator.camelContext().getManagementName());
            JsonNode executed = jolokia(coordinator, Json.object().put("type", "exec").put("mbean", mbean).put("operation", "reload()"));
            assertThat(executed.path("status").asInt()).as(executed.toString()).isEqualTo(200);
            assertThat(executed.path("value").asText()).isEqualTo("added version 1 added, 1 unchanged");
            JsonNode read = jolokia(coordinator, Json.object().put("type", "read").put("mbean", mbean).put("attribute", "LoadedWorkflows"));
            assertThat(read.path("value").toString()).isEqualTo("[\"added version 1 <- ADDED\",\"reloaded version 1 <- RELOADED\"]");   // by file name
            // every reload counted by its result: the two refused, the four that changed or kept the workflows
            assertThat(meters.find("coordinator_workflow_reloads").tag("result", "refused").counter().count()).isEqualTo(2);
            assertThat(meters.find("coordinator_workflow_reloads").tag("result", "reloaded").counter().count()).isEqualTo(4);
            assertThat(meters.find("coordinator_workflow_reloads").tag("result", "failed").counter()).isNull();
        }
    }

    /**
     * A reload that loads the folder answers with the warnings ./coordinator validate prints for it (a look-alike agent
     * name, a subfolder whose files are not read), which before were only WARN lines in the log.
     */
    @Test
    void aReloadAnswersWithTheWarningsOfTheFolderItLoaded() throws Exception {
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of())) {
            Files.writeString(workflows.resolve("added.yaml"), ADDED.replace("agent: reload-added", "agent: reload-secnd"));
            Files.writeString(Files.createDirectory(workflows.resolve("drafts")).resolve("draft.yaml"), ADDED);

            HttpResponse<String> reloaded = reload(coordinator);

            assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            JsonNode answer = Json.parse(reloaded.body());
            assertThat(answer.path("added").toString()).isEqualTo("[{\"workflow_id\":\"added\",\"version\":1}]");
            assertThat(answer.path("warnings")).as(reloaded.body()).hasSize(2);
            assertThat(answer.path("warnings").get(0).asText()).startsWith(
                    "agent \"reload-secnd\" (added.yaml step \"only\") is named almost as agent \"reload-second\"");
            assertThat(answer.path("warnings").get(1).asText()).startsWith("subfolder drafts holds 1 definition file(s), which are not read");
        }
    }

    /**
     * Two coordinators on one broker and database, each with a folder of its own: a reload asked of one reloads the
     * other, whose answer comes back in the asker's; a folder with a problem on the other side is named there (the
     * asker's own reload stands); a coordinator alive on the database that takes no notice is named as not answering.
     */
    @Test
    void aReloadAskedOfOneCoordinatorReloadsTheOthersOnItsBrokerAndDatabase() throws Exception {
        Path otherFolder = Files.createDirectory(folder.resolve("other-workflows"));
        Files.writeString(otherFolder.resolve("reloaded.yaml"), V1);
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of("coordinator.workflows.reload-wait-ms", "3000"));
             RunningCoordinator other = CoordinatorApp.start(TestCoordinator.sharing(coordinator, otherFolder,
                     Files.createDirectory(folder.resolve("other-data")), "other"));
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            agents.echo("reload-first", r -> Map.of("done", "first")).echo("reload-second", r -> Map.of("done", "second"))
                    .echo("reload-third", r -> Map.of("done", "third"));
            Files.writeString(workflows.resolve("reloaded.yaml"), V2);
            Files.writeString(otherFolder.resolve("reloaded.yaml"), V2);

            HttpResponse<String> reloaded = reload(coordinator);
            assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            JsonNode answered = Json.parse(reloaded.body());
            assertThat(answered.path("changed").toString()).isEqualTo("[{\"workflow_id\":\"reloaded\",\"from_version\":1,\"to_version\":2}]");
            assertThat(answered.path("other_coordinators").toString()).isEqualTo("[{\"instance_id\":\"other\",\"status\":200,"
                    + "\"added\":[],\"changed\":[{\"workflow_id\":\"reloaded\",\"from_version\":1,\"to_version\":2}],"
                    + "\"removed\":[],\"unchanged\":[]}]");
            assertThat(other.catalog().byId("reloaded").orElseThrow().versionOrDefault()).as("reloaded before the answer").isEqualTo(2);
            // whichever coordinator takes an event starts version 2
            List<String> executions = java.util.stream.IntStream.range(0, 6).mapToObj(i -> send(coordinator, "RELOADED")).toList()
                    .stream().map(eventId -> startedBy(coordinator, eventId)).toList();
            await().atMost(Duration.ofSeconds(30)).until(() -> executions.stream().allMatch(e -> "completed".equals(status(coordinator, e))));
            assertThat(executions).allSatisfy(e -> assertThat(version(coordinator, e)).isEqualTo(2));

            // the other's folder has a problem: named in the answer, and its loaded workflows run on; this one's reload stands
            Files.writeString(otherFolder.resolve("added.yaml"), ADDED.replace("agent: reload-added", "agent: reload-added\n    depends_on: [ony]"));
            Files.writeString(workflows.resolve("added.yaml"), ADDED);
            reloaded = reload(coordinator);
            assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            answered = Json.parse(reloaded.body());
            assertThat(answered.path("added").toString()).isEqualTo("[{\"workflow_id\":\"added\",\"version\":1}]");
            JsonNode otherAnswer = answered.path("other_coordinators").get(0);
            assertThat(otherAnswer.path("instance_id").asText()).isEqualTo("other");
            assertThat(otherAnswer.path("status").asInt()).isEqualTo(422);
            assertThat(otherAnswer.path("problems").toString()).contains("added.yaml").contains("depends_on");
            assertThat(other.catalog().byId("added")).isEmpty();

            // alive on the database as a coordinator of an earlier release would be (runner rows, a session), no notice taken
            try (java.sql.Connection earlier = aliveWithoutAnswering(coordinator, "earlier-release")) {
                Files.delete(otherFolder.resolve("added.yaml"));
                long asked = System.nanoTime();
                reloaded = reload(coordinator);
                assertThat((System.nanoTime() - asked) / 1_000_000).as("waited for the silent one").isGreaterThanOrEqualTo(3000);
                answered = Json.parse(reloaded.body());
                assertThat(answered.path("other_coordinators").findValuesAsText("instance_id")).containsExactly("earlier-release", "other");
                assertThat(answered.path("other_coordinators").get(0).path("status").asInt()).isEqualTo(504);
                assertThat(answered.path("other_coordinators").get(0).path("error").asText()).startsWith("no answer within 3000 ms");
                assertThat(answered.path("other_coordinators").get(1).path("status").asInt()).isEqualTo(200);
            }
        }
    }

    /**
     * A reload asked of one coordinator while another starts (it read its folder, and does not listen for the notice
     * yet) is not lost on the one starting: it reads its folder again once it listens, and runs what it finds there.
     */
    @Test
    void aCoordinatorStartingWhileAReloadIsAskedTakesTheReloadedFolder() throws Exception {
        Path otherFolder = Files.createDirectory(folder.resolve("other-workflows"));
        Files.writeString(otherFolder.resolve("reloaded.yaml"), V1);
        dev.agentcoordinator.definition.WorkflowCatalog readAtStart = dev.agentcoordinator.definition.WorkflowCatalog.load(otherFolder);
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of());
             RunningCoordinator other = CoordinatorApp.startReadFrom(TestCoordinator.sharing(coordinator, otherFolder,
                     Files.createDirectory(folder.resolve("other-data")), "other"), readAtStart, starting -> {
                 try {
                     Files.writeString(workflows.resolve("reloaded.yaml"), V2);
                     Files.writeString(otherFolder.resolve("reloaded.yaml"), V2);
                     HttpResponse<String> reloaded = reload(coordinator);
                     assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
                     assertThat(Json.parse(reloaded.body()).path("other_coordinators").toString()).as("not yet listening").isEqualTo("[]");
                 } catch (Exception e) {
                     throw new IllegalStateException(e);
                 }
             })) {
            assertThat(other.catalog().byId("reloaded").orElseThrow().versionOrDefault()).isEqualTo(2);
            assertThat(new JdbcTemplate(coordinator.dataSource()).queryForList(
                    "SELECT version FROM workflow_definition_runners WHERE instance_id = 'other'", Integer.class)).containsExactly(2);
        }
    }

    /**
     * A coordinator of another database on the same broker does not take a reload asked of this one. The asker waits
     * its whole wait for a coordinator alive on its database that never answers, so an answer from the other would
     * be among those it lists.
     */
    @Test
    void aReloadDoesNotReachTheCoordinatorsOfAnotherDatabaseOnTheBroker() throws Exception {
        Path otherFolder = Files.createDirectory(folder.resolve("other-workflows"));
        Files.writeString(otherFolder.resolve("reloaded.yaml"), V1);
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of("coordinator.workflows.reload-wait-ms", "2000"));
             RunningCoordinator other = CoordinatorApp.start(TestCoordinator.settings(Files.createDirectory(folder.resolve("other-data")),
                     otherFolder).with(Map.of("coordinator.broker.url", coordinator.brokerUrl(), "coordinator.instance-id", "other")));
             java.sql.Connection silent = aliveWithoutAnswering(coordinator, "silent")) {
            Files.writeString(workflows.resolve("reloaded.yaml"), V2);
            Files.writeString(otherFolder.resolve("reloaded.yaml"), V2);
            HttpResponse<String> reloaded = reload(coordinator);
            assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            assertThat(Json.parse(reloaded.body()).path("other_coordinators").findValuesAsText("instance_id")).containsExactly("silent");
            assertThat(other.catalog().byId("reloaded").orElseThrow().versionOrDefault()).as("not reloaded").isEqualTo(1);
        }
    }

    /** A session on the coordinator's database that says it runs a workflow, as a coordinator of an earlier release does. */
    private static java.sql.Connection aliveWithoutAnswering(RunningCoordinator coordinator, String instanceId) throws Exception {
        java.sql.Connection session = java.sql.DriverManager.getConnection(coordinator.jdbcUrl()
                + (coordinator.jdbcUrl().contains("?") ? "&" : "?") + "ApplicationName=" + instanceId, "postgres", "");
        try (java.sql.Statement statement = session.createStatement()) {
            statement.execute("INSERT INTO workflow_definition_runners (workflow_id, version, instance_id)"
                    + " VALUES ('reloaded', 1, '" + instanceId + "')");
        }
        return session;
    }

    /**
     * Reloads one after another while executions start and run, and the retirement sweep removes the routes of the
     * versions no execution runs on any more: every execution ends completed, with the steps of the version it
     * started on, and nothing is logged at ERROR.
     */
    @Test
    void executionsStartedAcrossReloadsEachEndOnTheirVersion() throws Exception {
        try (CapturedLog log = CapturedLog.ofRoot();
             RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of("coordinator.versions.retire-period-ms", "100"));
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            for (String agent : List.of("reload-first", "reload-second", "reload-third")) {
                agents.agent(agent, r -> List.of(ScriptedAgents.Reply.ok(Map.of("done", r.action())).after(150)));
            }
            List<String> events = new java.util.ArrayList<>();
            for (int version = 2; version <= 7; version++) {
                for (int i = 0; i < 4; i++) {
                    events.add(send(coordinator, "RELOADED"));
                }
                // even versions have a third step, odd ones two, as V2 and V1
                Files.writeString(workflows.resolve("reloaded.yaml"), (version % 2 == 0 ? V2 : V1).replaceFirst("version: \\d", "version: " + version));
                HttpResponse<String> reloaded = reload(coordinator);
                assertThat(reloaded.statusCode()).as(reloaded.body()).isEqualTo(200);
            }
            for (int i = 0; i < 4; i++) {
                events.add(send(coordinator, "RELOADED"));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> events.stream().allMatch(event -> {
                String execution = executionOf(coordinator, event);
                return execution != null && "completed".equals(status(coordinator, execution));
            }));
            for (String event : events) {
                String execution = executionOf(coordinator, event);
                assertThat(steps(coordinator, execution)).as("execution %s of version %d", execution, version(coordinator, execution))
                        .hasSize(version(coordinator, execution) % 2 == 0 ? 3 : 2);
            }
            assertThat(events.stream().map(event -> version(coordinator, executionOf(coordinator, event))).distinct().count())
                    .as("executions of several versions").isGreaterThan(3);
            assertThat(log.atLeast(org.apache.logging.log4j.Level.ERROR)).isEmpty();
        }
    }

    /** coordinator.workflows.watch: a saved file is reloaded; one with a problem is named in a WARN line and not loaded. */
    @Test
    void aWatchedFolderIsReloadedWhenAFileInItChanges() throws Exception {
        try (CapturedLog log = CapturedLog.of(WorkflowFolderWatch.class.getName());
             RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of("coordinator.workflows.watch", "true"));
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            agents.echo("reload-added", r -> Map.of("done", r.action()));

            Files.writeString(workflows.resolve("added.yaml"), ADDED.replace("action: only", "action: only\n    depends_on: [ony]"));
            await().atMost(Duration.ofSeconds(20)).until(() -> log.lines().stream().anyMatch(line ->
                    line.contains("Workflows not reloaded after a change in") && line.contains("added.yaml")));
            assertThat(workflowsListed(coordinator).path("workflows")).hasSize(1);

            Files.writeString(workflows.resolve("added.yaml"), ADDED);
            await().atMost(Duration.ofSeconds(20)).until(() -> workflowsListed(coordinator).path("workflows").size() == 2);
            String added = startedBy(coordinator, send(coordinator, "ADDED"));
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(coordinator, added)));
        }
    }

    /** first takes two inputs, in an order of keys that PostgreSQL's jsonb does not keep (it stores shorter keys first). */
    private static String withInputs(String definition) {
        return definition.replace("action: first\n", "action: first\n    input_mapping:\n"
                + "      interview_id: { from_trigger: interview_id }\n      user_id: { from_trigger: user_id }\n");
    }

    /**
     * Version 2 came from workflow_definitions (a reload reads the version it brings back from there), so the
     * definition retained for it once version 3 replaced it is the recorded one: a roll-back to version 2, the file
     * as it was, is that very definition, whatever order of keys the database keeps.
     */
    @Test
    void aRollBackToAVersionReadBackFromItsRecordIsTheSameDefinition() throws Exception {
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", withInputs(V1), Map.of());
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            Files.writeString(workflows.resolve("reloaded.yaml"), withInputs(V2));
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);
            Files.writeString(workflows.resolve("reloaded.yaml"), withInputs(V2).replace("version: 2", "version: 3"));
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);

            Files.writeString(workflows.resolve("reloaded.yaml"), withInputs(V2));
            HttpResponse<String> rolledBack = reload(coordinator);
            assertThat(rolledBack.statusCode()).as(rolledBack.body()).isEqualTo(200);
            assertThat(Json.parse(rolledBack.body()).path("changed").toString())
                    .isEqualTo("[{\"workflow_id\":\"reloaded\",\"from_version\":3,\"to_version\":2}]");

            agents.echo("reload-first", r -> Map.of("done", "first")).echo("reload-second", r -> Map.of("done", "second"))
                    .echo("reload-third", r -> Map.of("done", "third"));
            assertThat(completedExecution(coordinator, "RELOADED")).as("its version").isEqualTo(2);
        }
    }

    /**
     * A message of an execution on version 2 that looked for its version just before the reload that loads it, and
     * waits for the reload to end before its version is read back (the reload and that read are one at a time): it
     * runs on the routes the reload added, which stay as they are.
     */
    @Test
    void aVersionLookedForDuringTheReloadThatLoadsItIsTheLoadedOne() throws Exception {
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of());
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            RetainedVersions versions = retainedVersions(coordinator);
            Files.writeString(workflows.resolve("reloaded.yaml"), V2);
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);
            org.apache.camel.Route start = coordinator.camelContext().getRoute("wf.reloaded~v2~start");

            assertThat(versions.fetch("reloaded", 2)).map(dev.agentcoordinator.definition.WorkflowDefinition::id).contains("reloaded~v2");
            assertThat(coordinator.catalog().retainedAt("reloaded~v2")).isEmpty();
            // no execution runs on version 2: were it retained, the sweep would retire the loaded version's routes
            versions.retireUnused();
            versions.retireUnused();
            assertThat(coordinator.camelContext().getRoute("wf.reloaded~v2~start")).as("neither added again nor retired")
                    .isSameAs(start);

            // rolled back to version 1, whose routes loaded at start the two sweeps retired: read back, on routes of its own
            assertThat(routes(coordinator, "wf.reloaded.")).isEmpty();
            Files.writeString(workflows.resolve("reloaded.yaml"), V1);
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);
            int routes = coordinator.camelContext().getRoutes().size();
            assertThat(versions.fetch("reloaded", 1)).map(dev.agentcoordinator.definition.WorkflowDefinition::id).contains("reloaded~v1");
            assertThat(coordinator.camelContext().getRoutes()).hasSize(routes);
            assertThat(coordinator.catalog().retainedAt("reloaded~v1")).isEmpty();

            agents.echo("reload-first", r -> Map.of("done", "first")).echo("reload-second", r -> Map.of("done", "second"));
            assertThat(completedExecution(coordinator, "RELOADED")).as("its version").isEqualTo(1);
        }
    }

    /**
     * Version 1, loaded at start, runs on the routes named after the workflow alone. Once a reload replaced it and
     * the retirement sweep released it, a message that took its route key before (the outcome of its last execution,
     * published right after that execution ended) still finds it, as one of a version's own routes does.
     */
    @Test
    void theRouteKeyOfAVersionLoadedAtStartStillResolvesOnceReleased() throws Exception {
        try (RunningCoordinator coordinator = startWith("reloaded.yaml", V1, Map.of());
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            RetainedVersions versions = retainedVersions(coordinator);
            agents.echo("reload-first", r -> Map.of("done", "first"));
            String before = startedBy(coordinator, send(coordinator, "RELOADED"));
            await().atMost(Duration.ofSeconds(20)).until(() -> steps(coordinator, before).contains("second:running"));
            Files.writeString(workflows.resolve("reloaded.yaml"), V2);
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);
            agents.echo("reload-second", r -> Map.of("done", "second"));
            await().atMost(Duration.ofSeconds(20)).until(() -> "RELOADED_V1_DONE".equals(outcome(coordinator, before)));

            versions.retireUnused();   // no execution on version 1: released, its routes still there
            assertThat(coordinator.catalog().retained()).isEmpty();
            assertThat(coordinator.camelContext().getRoute("wf.reloaded.second")).isNotNull();

            assertThat(coordinator.catalog().resolveRouteKey("reloaded")).map(dev.agentcoordinator.definition.WorkflowDefinition::id)
                    .contains("reloaded");
            org.apache.camel.Exchange outcome = new org.apache.camel.support.DefaultExchange(coordinator.camelContext());
            outcome.getMessage().setHeader(Headers.WORKFLOW_ID, "reloaded");
            outcome.getMessage().setHeader(Headers.WORKFLOW_VERSION, 1);
            outcome.getMessage().setHeader(Headers.ROUTE_KEY, "reloaded");
            outcome.getMessage().setHeader(Headers.EXECUTION_ID, before);
            outcome.getMessage().setHeader(Headers.STATUS, "completed");
            outcome.setProperty("results", "{}");
            new OutcomeEvents(coordinator.catalog()).build(outcome);
            assertThat(outcome.getMessage().getBody(String.class)).contains("RELOADED_V1_DONE");
        }
    }

    private static final String JOINED = """
            id: joined
            name: Joined workflow
            trigger: JOINED
            version: 1
            onSuccess: JOINED_V1_DONE
            steps:
              - id: left
                agent: reload-first
                action: left
              - id: right
                agent: reload-second
                action: right
              - id: both
                agent: reload-first
                action: both
                depends_on: [left, right]
            """;

    /** An execution waiting in a fan-in of version 1 when a reload brings version 2 ends on version 1. */
    @Test
    void anExecutionWaitingInAJoinEndsOnItsVersionAfterAReload() throws Exception {
        try (RunningCoordinator coordinator = startWith("joined.yaml", JOINED, Map.of());
             ScriptedAgents agents = new ScriptedAgents(coordinator.connectionFactory())) {
            agents.echo("reload-first", r -> Map.of("done", r.action()));
            String waiting = startedBy(coordinator, send(coordinator, "JOINED"));
            await().atMost(Duration.ofSeconds(20)).until(() -> steps(coordinator, waiting).contains("left:completed")
                    && steps(coordinator, waiting).contains("right:running"));

            Files.writeString(workflows.resolve("joined.yaml"), JOINED.replace("version: 1", "version: 2")
                    .replace("JOINED_V1_DONE", "JOINED_V2_DONE").replace("action: both", "action: both_v2"));
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);
            agents.echo("reload-second", r -> Map.of("done", r.action()));
            await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(coordinator, waiting)));
            assertThat(steps(coordinator, waiting)).containsExactly("both:completed", "left:completed", "right:completed");
            assertThat(agents.received()).filteredOn(r -> r.request().path("execution_id").asText().equals(waiting))
                    .extracting(ScriptedAgents.Received::action).contains("both").doesNotContain("both_v2");
            await().atMost(Duration.ofSeconds(10)).until(() -> "JOINED_V1_DONE".equals(outcome(coordinator, waiting)));
        }
    }

    private static RetainedVersions retainedVersions(RunningCoordinator coordinator) throws Exception {
        WorkflowReload reload = coordinator.camelContext().getRegistry().findSingleByType(WorkflowReload.class);
        java.lang.reflect.Field versions = WorkflowReload.class.getDeclaredField("versions");
        versions.setAccessible(true);
        return (RetainedVersions) versions.get(reload);
    }

    /**
     * A folder mounted from a Kubernetes ConfigMap: each file is a link through {@code ..data}, a link to a folder of
     * the files, which an update swaps for another at once (no event names the files themselves).
     */
    @Test
    void aWatchedFolderMountedFromAConfigMapIsReloadedWhenTheConfigMapIsUpdated() throws Exception {
        Path mounted = Files.createDirectory(folder.resolve("mounted"));
        Path first = Files.createDirectory(mounted.resolve("..2026_12_05_15_00_00.1"));
        Files.writeString(first.resolve("reloaded.yaml"), V1);
        Files.createSymbolicLink(mounted.resolve(WorkflowFolderWatch.CONFIG_MAP_DATA), first.getFileName());
        Files.createSymbolicLink(mounted.resolve("reloaded.yaml"), Path.of(WorkflowFolderWatch.CONFIG_MAP_DATA, "reloaded.yaml"));
        try (RunningCoordinator coordinator = CoordinatorApp.start(TestCoordinator.settings(Files.createDirectory(folder.resolve("data")),
                mounted).with(Map.of("coordinator.workflows.watch", "true")))) {
            Path second = Files.createDirectory(mounted.resolve("..2026_12_05_15_01_00.2"));
            Files.writeString(second.resolve("reloaded.yaml"), V2);
            Path swapping = Files.createSymbolicLink(mounted.resolve("..data_tmp"), second.getFileName());
            Files.move(swapping, mounted.resolve(WorkflowFolderWatch.CONFIG_MAP_DATA), java.nio.file.StandardCopyOption.ATOMIC_MOVE);

            await().atMost(Duration.ofSeconds(20)).until(() -> workflowsListed(coordinator).path("workflows").get(0).path("version").asInt() == 2);
        }
    }

    private static HttpResponse<String> reload(RunningCoordinator coordinator) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/workflows/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode jolokia(RunningCoordinator coordinator, JsonNode request) throws Exception {
        return Json.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/observe/jolokia"))
                .POST(HttpRequest.BodyPublishers.ofString(request.toString())).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    private static JsonNode workflowsListed(RunningCoordinator coordinator) throws Exception {
        return Json.parse(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/workflows")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }

    private static List<String> routes(RunningCoordinator coordinator, String prefix) {
        return coordinator.camelContext().getRoutes().stream().map(org.apache.camel.Route::getRouteId).filter(id -> id.startsWith(prefix)).toList();
    }

    /** The version of workflow of an execution {@code trigger} started, once it completed. */
    private static int completedExecution(RunningCoordinator coordinator, String trigger) {
        String execution = startedBy(coordinator, send(coordinator, trigger));
        await().atMost(Duration.ofSeconds(20)).until(() -> "completed".equals(status(coordinator, execution)));
        return version(coordinator, execution);
    }

    /** The execution the event started once a coordinator took the event, null when it started none. */
    private static String startedBy(RunningCoordinator coordinator, String eventId) {
        await().atMost(Duration.ofSeconds(20)).until(() -> !query(coordinator, "SELECT 1 FROM agent_events WHERE event_key = ?", eventId).isEmpty());
        return executionOf(coordinator, eventId);
    }
}
