package dev.agentcoordinator.bench;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.engine.CachedSqlPrepareStatementStrategy;
import dev.agentcoordinator.engine.CoordinatorRoutes;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.infra.NewRoutes;
import dev.agentcoordinator.infra.RouteRemovingCamelContext;
import dev.agentcoordinator.ops.RouteLevelMBeans;
import org.apache.camel.ManagementMBeansLevel;
import org.apache.camel.Route;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * How long adding and removing the routes of large workflows takes beside many others: what a reload or the
 * retirement of a version costs (no broker, no database; the routes are built and started, not run).
 * Builds {@code churn.others} (30) workflows of 20 steps and two of {@code churn.big} (200) and twice that many
 * steps, then removes the two big ones' routes, as the coordinator does ({@code churn.camel=true}: one by one
 * with Camel's own {@code stopRoute} and {@code removeRoute}, for comparison).
 *
 * <pre>
 * mvn -q -B test-compile exec:java -Dexec.classpathScope=test -Dexec.mainClass=dev.agentcoordinator.bench.RouteChurn
 * </pre>
 */
public final class RouteChurn {

    private RouteChurn() {
    }

    public static void main(String[] args) throws Exception {
        int big = Integer.getInteger("churn.big", 200);
        int others = Integer.getInteger("churn.others", 30);
        boolean camelsWay = Boolean.getBoolean("churn.camel");
        Path folder = Files.createTempDirectory("route-churn");
        List<Path> files = new ArrayList<>();
        files.add(chain(folder, "big", big));
        files.add(chain(folder, "bigger", 2 * big));
        for (int i = 0; i < others; i++) {
            files.add(chain(folder, "ordinary" + i, 20));
        }
        WorkflowCatalog catalog = WorkflowCatalog.load(files);
        try (RouteRemovingCamelContext context = new RouteRemovingCamelContext(true)) {
            context.getRegistry().bind("dataSource", new org.postgresql.ds.PGSimpleDataSource());   // never connected
            context.getRegistry().bind(CachedSqlPrepareStatementStrategy.REGISTRY_NAME, new CachedSqlPrepareStatementStrategy());
            RouteLevelMBeans.apply(context);   // as the coordinator: MBeans for routes, not for every processor
            context.getManagementStrategy().getManagementAgent().setMBeansLevel(ManagementMBeansLevel.RoutesOnly);
            context.start();
            CoordinatorRoutes routes = new CoordinatorRoutes(catalog, CoordinatorSettings.fromMap(Map.of()));
            long began = System.nanoTime();
            for (WorkflowDefinition workflow : catalog.all()) {
                NewRoutes.add(context, routes.workflow(workflow));
            }
            System.out.printf("added the routes of %d workflows: %d routes in %d ms%n", catalog.all().size(),
                    context.getRoutesSize(), millisSince(began));
            for (String workflow : List.of("big", "bigger")) {
                List<String> ids = context.getRoutes().stream().map(Route::getRouteId)
                        .filter(id -> Endpoints.isRouteOf(id, workflow)).toList();
                int before = context.getRoutesSize();
                began = System.nanoTime();
                if (camelsWay) {
                    for (String id : ids) {
                        context.getRouteController().stopRoute(id, 10, TimeUnit.SECONDS);
                        context.removeRoute(id);
                    }
                } else {
                    context.removeRoutes(ids, 10, TimeUnit.SECONDS);
                }
                System.out.printf("removed the %d routes of %s among %d (%s): %d ms%n", ids.size(), workflow, before,
                        camelsWay ? "one by one, Camel's removeRoute" : "in bulk", millisSince(began));
            }
        }
    }

    /** A workflow of {@code steps} steps, each depending on the one before. */
    private static Path chain(Path folder, String id, int steps) throws Exception {
        StringBuilder yaml = new StringBuilder("id: " + id + "\nname: " + id + "\ntrigger: " + id.toUpperCase() + "_EVENT\nsteps:\n");
        for (int i = 0; i < steps; i++) {
            yaml.append("  - { id: s").append(i).append(", agent: agent").append(i % 7).append(", action: run");
            if (i > 0) {
                yaml.append(", depends_on: [s").append(i - 1).append(']');
            }
            yaml.append(" }\n");
        }
        return Files.writeString(folder.resolve(id + ".yaml"), yaml.toString());
    }

    private static long millisSince(long began) {
        return (System.nanoTime() - began) / 1_000_000;
    }
}
