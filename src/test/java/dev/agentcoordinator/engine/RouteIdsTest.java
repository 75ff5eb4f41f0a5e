package dev.agentcoordinator.engine;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.ProcessorDefinitionHelper;
import org.apache.camel.model.RouteDefinition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Camel wants every route and node id unique in its context. Workflow and step ids the validator
 * accepts must not make two alike, whatever they are called: here they take the names of the
 * coordinator's own nodes.
 */
class RouteIdsTest {
    @TempDir
    Path folder;

    /** The retirement of a version removes its routes, not those of another version a reload brought beside it. */
    @Test
    void theRoutesOfAWorkflowAreNotThoseOfItsOtherVersions() {
        assertThat(Endpoints.isRouteOf("wf.order.pay", "order")).isTrue();
        assertThat(Endpoints.isRouteOf("wf.order~start", "order")).isTrue();
        assertThat(Endpoints.isRouteOf("wf.order~compensate", "order")).isTrue();
        assertThat(Endpoints.isRouteOf("wf.order~v2.pay", "order")).isFalse();
        assertThat(Endpoints.isRouteOf("wf.order~v2~start", "order")).isFalse();
        assertThat(Endpoints.isRouteOf("wf.order~v2~start", "order~v2")).isTrue();
        assertThat(Endpoints.isRouteOf("wf.order~v12.pay", "order~v1")).isFalse();
        assertThat(Endpoints.isRouteOf("wf.orders.pay", "order")).isFalse();
        assertThat(Endpoints.isRouteOf("wf.order", "order")).isFalse();
    }

    @Test
    void workflowsNamedAfterTheCoordinatorsOwnNodesGetIdsOfTheirOwn() throws Exception {
        List<String> ids = ids(WorkflowCatalog.load(List.of(
                workflow("trigger", "TRIGGER_WF", "create-execution", "decide"),
                workflow("create-execution", "CREATE_WF", "send-started-root", "decide"),
                workflow("coordinator", "COORDINATOR_WF", "messages", "store"))));

        assertThat(duplicates(ids)).isEmpty();
        assertThat(ids).contains("trigger.create-execution.decide", "create-execution.send-started-root.decide");
    }

    /** A definition file, read and validated as the coordinator's own are. */
    private Path workflow(String id, String trigger, String stepId, String agent) throws Exception {
        return Files.writeString(folder.resolve(id + ".yaml"), """
                id: %s
                name: %s
                trigger: %s
                steps:
                  - { id: %s, agent: %s, action: run }
                """.formatted(id, id, trigger, stepId, agent));
    }

    /** Every route id and custom node id of the coordinator's routes for these workflows. */
    private static List<String> ids(WorkflowCatalog catalog) throws Exception {
        List<String> ids = new ArrayList<>();
        try (DefaultCamelContext context = new DefaultCamelContext()) {
            context.getRegistry().bind("dataSource", new org.postgresql.ds.PGSimpleDataSource());   // never connected
            CoordinatorRoutes routes = new CoordinatorRoutes(catalog, CoordinatorSettings.fromMap(Map.of()));
            for (RoutesBuilder builder : routes.builders()) {
                RouteBuilder routeBuilder = (RouteBuilder) builder;
                routeBuilder.configureRoutes(context);
                for (RouteDefinition route : routeBuilder.getRouteCollection().getRoutes()) {
                    ids.add(route.getId());
                    for (ProcessorDefinition<?> node : ProcessorDefinitionHelper.filterTypeInOutputs(route.getOutputs(), ProcessorDefinition.class)) {
                        if (node.hasCustomIdAssigned()) {
                            ids.add(node.getId());
                        }
                    }
                }
            }
        }
        return ids;
    }

    private static List<String> duplicates(List<String> ids) {
        return ids.stream().collect(Collectors.groupingBy(Function.identity(), Collectors.counting())).entrySet().stream()
                .filter(e -> e.getValue() > 1).map(Map.Entry::getKey).toList();
    }
}
