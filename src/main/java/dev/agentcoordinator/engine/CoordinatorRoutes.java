package dev.agentcoordinator.engine;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import org.apache.camel.RoutesBuilder;

import java.util.List;

/** Placeholder: the engine's routes (the lead replaces this body). */
public final class CoordinatorRoutes {

    private CoordinatorRoutes() {
    }

    public static List<RoutesBuilder> builders(WorkflowCatalog catalog, CoordinatorSettings settings) {
        return List.of();
    }
}
