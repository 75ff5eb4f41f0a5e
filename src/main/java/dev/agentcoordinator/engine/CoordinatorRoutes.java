package dev.agentcoordinator.engine;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.RoutesBuilder;
import java.util.ArrayList;
import java.util.List;

/** Everything the coordinator runs: one {@link WorkflowRoutes} per workflow plus the shared routes. */
public final class CoordinatorRoutes {
    private CoordinatorRoutes() {
    }

    /** The routes need a {@code DataSource} bound in the Camel registry. */
    public static List<RoutesBuilder> builders(WorkflowCatalog catalog, CoordinatorSettings settings) {
        String replyQueue = settings.replyQueue();
        ExecutionFactsCache facts = new ExecutionFactsCache();
        List<StepRouteMapper> mappers = List.of(new LoopStepMapper(replyQueue, facts), new AgentStepMapper(replyQueue, facts));
        List<RoutesBuilder> builders = new ArrayList<>();
        for (WorkflowDefinition workflow : catalog.all()) {
            builders.add(new WorkflowRoutes(workflow, mappers, replyQueue, facts));
        }
        builders.add(new FanInRoutes(catalog));
        builders.add(new EventRoutes(catalog, settings.jmsConcurrentConsumers()));
        ReplyBacklog replyBacklog = new ReplyBacklog();
        builders.add(new ReplyRoutes(catalog, replyQueue, settings.jmsConcurrentConsumers(), settings.jmsMaxConcurrentConsumers(), replyBacklog));
        builders.add(new dev.agentcoordinator.api.ApiRoutes(catalog));
        long sweepPeriodMs = Long.parseLong(settings.values().getOrDefault("coordinator.supervisor.period-ms", "200"));
        builders.add(new SupervisorRoutes(catalog, replyQueue, sweepPeriodMs, replyBacklog));
        builders.add(new LockRoutes(catalog, sweepPeriodMs));
        builders.add(new dev.agentcoordinator.messages.MessageRoutes(
                Long.parseLong(setting(settings, "coordinator.messages.response-timeout-ms", "30000")),
                1, sweepPeriodMs)); // agent-to-agent messages are few: one consumer per queue
        // fail at start, not at the first locked step, when the priorities cannot be read
        dev.agentcoordinator.locks.LockPriorities.parse(setting(settings, "coordinator.locks.priorities",
                dev.agentcoordinator.locks.LockPriorities.SPEC_DEFAULT));
        return builders;
    }

    private static String setting(CoordinatorSettings settings, String key, String fallback) {
        String value = settings.get(key);
        return value == null || value.isBlank() ? fallback : value.trim();
    }
}
