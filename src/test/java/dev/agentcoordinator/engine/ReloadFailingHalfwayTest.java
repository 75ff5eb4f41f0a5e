package dev.agentcoordinator.engine;

import dev.agentcoordinator.CoordinatorApp;
import dev.agentcoordinator.RunningCoordinator;
import dev.agentcoordinator.definition.WorkflowCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A reload that brings two versions and fails to add the routes of the second answers 500, "nothing switched". The
 * routes of the first, added by that reload, must not stay kept as if executions ran on them: a corrected reload
 * that changes that version (nothing ever ran on it) is then refused as "a version this coordinator keeps for the
 * executions that started on it".
 */
class ReloadFailingHalfwayTest {
    private static final String A1 = """
            id: half_a
            name: A
            trigger: HALF_A
            version: 1
            steps:
              - id: only
                agent: half-a
                action: first
            """;
    private static final String B1 = """
            id: half_b
            name: B
            trigger: HALF_B
            version: 1
            steps:
              - id: only
                agent: half-b
                action: first
            """;

    @TempDir
    Path folder;

    @Test
    void aReloadThatFailsHalfwayKeepsNothingOfWhatItBrought() throws Exception {
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        Files.writeString(workflows.resolve("a.yaml"), A1);
        Files.writeString(workflows.resolve("b.yaml"), B1);
        try (RunningCoordinator coordinator = CoordinatorApp.start(TestCoordinator.settings(
                Files.createDirectory(folder.resolve("data")), workflows).with(Map.of()))) {
            RetainedVersions versions = retainedVersions(coordinator);
            // the routes of half_b version 2 cannot be added (a route that fails to start, say)
            java.lang.reflect.Field adder = RetainedVersions.class.getDeclaredField("routes");
            adder.setAccessible(true);
            WorkflowVersions.RouteAdder real = (WorkflowVersions.RouteAdder) adder.get(versions);
            WorkflowVersions.RouteAdder failingForB = copy -> {
                if (WorkflowCatalog.workflowIdOf(copy.id()).equals("half_b")) {
                    throw new IllegalStateException("simulated: a route of half_b version 2 failed to start");
                }
                real.add(copy);
            };
            adder.set(versions, failingForB);

            Files.writeString(workflows.resolve("a.yaml"), A1.replace("version: 1", "version: 2"));
            Files.writeString(workflows.resolve("b.yaml"), B1.replace("version: 1", "version: 2"));
            HttpResponse<String> failed = reload(coordinator);
            assertThat(failed.statusCode()).as(failed.body()).isEqualTo(500);
            assertThat(coordinator.catalog().byId("half_a").orElseThrow().versionOrDefault()).isEqualTo(1);

            // "nothing switched": nothing of the reload is kept as a version executions run on
            java.util.List<String> kept = coordinator.catalog().retained().stream()
                    .map(dev.agentcoordinator.definition.WorkflowDefinition::id).toList();
            java.util.List<String> addedRoutes = coordinator.camelContext().getRoutes().stream()
                    .map(org.apache.camel.Route::getRouteId).filter(id -> id.startsWith("wf.half_a~v2")).toList();

            // the operator fixes the cause and, told nothing changed, also corrects half_a version 2 (never run)
            adder.set(versions, real);
            Files.writeString(workflows.resolve("a.yaml"), A1.replace("version: 1", "version: 2").replace("action: first", "action: second"));
            HttpResponse<String> again = reload(coordinator);
            org.assertj.core.api.SoftAssertions.assertSoftly(soft -> {
                soft.assertThat(kept).as("versions kept for executions after the failed reload (routes %s)", addedRoutes).isEmpty();
                soft.assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            });
        }
    }

    /**
     * A retirement sweep whose removal of a released version's routes fails (a route that does not stop, the database
     * asked whether an execution runs on it) must leave the version for the next sweep: it was taken out of the
     * released ones first, and neither retained nor released again, its routes stayed for the coordinator's life.
     */
    @Test
    void aRemovalThatFailsIsTriedAgainByTheNextSweep() throws Exception {
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        Files.writeString(workflows.resolve("a.yaml"), A1);
        try (RunningCoordinator coordinator = CoordinatorApp.start(TestCoordinator.settings(
                Files.createDirectory(folder.resolve("data")), workflows).with(Map.of("coordinator.versions.retire-period-ms", "3600000")))) {
            RetainedVersions versions = retainedVersions(coordinator);
            Files.writeString(workflows.resolve("a.yaml"), A1.replace("version: 1", "version: 2"));
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);
            java.lang.reflect.Field removal = RetainedVersions.class.getDeclaredField("removal");
            removal.setAccessible(true);
            RetainedVersions.RouteRemover real = (RetainedVersions.RouteRemover) removal.get(versions);
            java.util.concurrent.atomic.AtomicBoolean failOnce = new java.util.concurrent.atomic.AtomicBoolean(true);
            removal.set(versions, (RetainedVersions.RouteRemover) key -> {
                if (failOnce.getAndSet(false)) {
                    throw new IllegalStateException("simulated: a route of " + key + " did not stop");
                }
                return real.remove(key);
            });

            versions.retireUnused();   // version 1 (no execution on it) released
            org.assertj.core.api.Assertions.assertThatThrownBy(versions::retireUnused).hasMessageContaining("simulated");
            versions.retireUnused();
            versions.retireUnused();
            assertThat(coordinator.camelContext().getRoutes().stream().map(org.apache.camel.Route::getRouteId)
                    .filter(id -> id.startsWith("wf.half_a.") || id.startsWith("wf.half_a~start")).toList())
                    .as("the routes of version 1, which no execution runs on, after three more sweeps").isEmpty();
        }
    }

    /**
     * A version whose routes never stop holds back no other: its failure stopped the sweep at it, every later sweep
     * again, and the other released versions' routes stayed (the diff reviewer's test).
     */
    @Test
    void oneVersionWhoseRoutesDoNotStopHoldsBackNoOther() throws Exception {
        Path workflows = Files.createDirectory(folder.resolve("workflows"));
        String b1 = A1.replace("half_a", "half_b").replace("HALF_A", "HALF_B").replace("half-a", "half-b");
        Files.writeString(workflows.resolve("a.yaml"), A1);
        Files.writeString(workflows.resolve("b.yaml"), b1);
        try (RunningCoordinator coordinator = CoordinatorApp.start(TestCoordinator.settings(
                Files.createDirectory(folder.resolve("data")), workflows).with(Map.of("coordinator.versions.retire-period-ms", "3600000")))) {
            RetainedVersions versions = retainedVersions(coordinator);
            Files.writeString(workflows.resolve("a.yaml"), A1.replace("version: 1", "version: 2"));
            Files.writeString(workflows.resolve("b.yaml"), b1.replace("version: 1", "version: 2"));
            assertThat(reload(coordinator).statusCode()).isEqualTo(200);
            java.lang.reflect.Field removal = RetainedVersions.class.getDeclaredField("removal");
            removal.setAccessible(true);
            RetainedVersions.RouteRemover real = (RetainedVersions.RouteRemover) removal.get(versions);
            java.util.concurrent.atomic.AtomicReference<String> stuck = new java.util.concurrent.atomic.AtomicReference<>();
            removal.set(versions, (RetainedVersions.RouteRemover) key -> {
                stuck.compareAndSet(null, key);   // the first version removed: its routes never stop
                if (stuck.get().equals(key)) {
                    throw new IllegalStateException("simulated: a route of " + key + " does not stop");
                }
                return real.remove(key);
            });

            versions.retireUnused();   // both version 1s released
            for (int sweep = 0; sweep < 3; sweep++) {
                org.assertj.core.api.Assertions.assertThatThrownBy(versions::retireUnused).hasMessageContaining("simulated");
            }
            String other = stuck.get().startsWith("half_a") ? "wf.half_b" : "wf.half_a";
            assertThat(coordinator.camelContext().getRoutes().stream().map(org.apache.camel.Route::getRouteId)
                    .filter(id -> id.startsWith(other + ".") || id.startsWith(other + "~start")).toList())
                    .as("the routes of the other version 1 (stuck: %s), no execution on it, after three sweeps", stuck.get()).isEmpty();
        }
    }

    private static RetainedVersions retainedVersions(RunningCoordinator coordinator) throws Exception {
        WorkflowReload reload = coordinator.camelContext().getRegistry().findSingleByType(WorkflowReload.class);
        java.lang.reflect.Field versions = WorkflowReload.class.getDeclaredField("versions");
        versions.setAccessible(true);
        return (RetainedVersions) versions.get(reload);
    }

    private static HttpResponse<String> reload(RunningCoordinator coordinator) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(coordinator.httpUrl() + "/api/workflows/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
