package dev.agentcoordinator.engine;

import dev.agentcoordinator.config.CoordinatorSettings;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.RoutesBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.spi.RoutePolicyFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the coordinator runs: one {@link WorkflowRoutes} per workflow plus the shared routes,
 * and those of the other workflow versions executions still run on ({@link #workflow}).
 */
public final class CoordinatorRoutes {
    private final WorkflowCatalog catalog;
    private final CoordinatorSettings settings;
    private final ExecutionFactsCache facts = new ExecutionFactsCache();
    private final List<StepRouteMapper> mappers;
    /** How far behind the reply consumers are: the timeout sweeps hold for it. */
    private final ReplyBacklog replyBacklog = new ReplyBacklog();
    /** How far behind the consumer of agent-message responses is: the message timeouts hold for it. */
    private final ReplyBacklog responseBacklog = new ReplyBacklog();

    public CoordinatorRoutes(WorkflowCatalog catalog, CoordinatorSettings settings) {
        this.catalog = catalog;
        this.settings = settings;
        String replyQueue = settings.replyQueue();
        this.mappers = List.of(new LoopStepMapper(replyQueue, facts), new AgentStepMapper(replyQueue, facts));
    }

    /** The routes of one workflow version (a loaded one, or one {@linkplain WorkflowCatalog#retain retained}). */
    public RouteBuilder workflow(WorkflowDefinition workflow) {
        return new WorkflowRoutes(workflow, catalog, mappers, settings.replyQueue(), facts, settings.lockPriorities());
    }

    /** What the workflows' routes cache of the executions in flight. */
    public ExecutionFactsCache facts() {
        return facts;
    }

    /** The routes need a {@code DataSource} bound in the Camel registry. */
    public List<RoutesBuilder> builders() {
        String replyQueue = settings.replyQueue();
        List<RoutesBuilder> builders = new ArrayList<>();
        builders.add(new DatabaseOutageErrors());
        for (WorkflowDefinition workflow : catalog.all()) {
            builders.add(workflow(workflow));
        }
        builders.add(new FanInRoutes(catalog));
        builders.add(new EventRoutes(catalog, settings.jmsConcurrentConsumers(), settings.eventsMaxDeliveries(), settings.chainMaxDepth(),
                settings.inputMaxJsonTokens(), settings.inputMaxMessageBytes()));
        builders.add(new ReplyRoutes(catalog, replyQueue, settings.jmsConcurrentConsumers(), settings.jmsMaxConcurrentConsumers(), replyBacklog,
                settings.inputMaxJsonTokens(), settings.inputMaxMessageBytes()));
        builders.addAll(dev.agentcoordinator.api.ApiRoutes.builders(catalog, replyQueue, replyBacklog::isBrokerUnreachable,
                settings.inputMaxJsonTokens(), settings.healthTimeoutMs()));
        long sweepPeriodMs = settings.supervisorPeriodMs();
        builders.add(new SupervisorRoutes(catalog, replyQueue, sweepPeriodMs, replyBacklog, facts));
        builders.add(new LockRoutes(catalog, sweepPeriodMs, replyBacklog::holdSweep, settings.lockPriorities(),
                replyBacklog::isBrokerUnreachable));
        builders.add(new dev.agentcoordinator.messages.MessageRoutes(
                settings.messagesResponseTimeoutMs(),
                1, sweepPeriodMs, responseBacklog, replyQueue, settings.inputMaxJsonTokens(),
                settings.inputMaxMessageBytes())); // agent-to-agent messages are few: one consumer per queue
        if (settings.retentionDays() > 0) {
            builders.add(new RetentionRoutes(settings.retentionDays(), settings.retentionPeriodMs()));
        }
        return builders;
    }

    /** Whether the broker is known to be unreachable now (the watch {@link #watchBroker} starts). */
    public java.util.function.BooleanSupplier brokerUnreachable() {
        return replyBacklog::isBrokerUnreachable;
    }

    /** Watches the broker {@code factory} (a plain Artemis one) connects to, for the timeout sweeps (see {@link BrokerOutageWatch}). */
    public BrokerOutageWatch watchBroker(jakarta.jms.ConnectionFactory factory) {
        java.util.Map<ReplyBacklog, String> queues = new java.util.LinkedHashMap<>();
        queues.put(replyBacklog, settings.replyQueue());
        queues.put(responseBacklog, dev.agentcoordinator.messages.MessageRoutes.RESPONSE_QUEUE);
        return BrokerOutageWatch.start(factory, queues);
    }

    /**
     * The breakers that pause the routes the broker or a timer starts while the database is unreachable, and tell
     * {@code outage} so.
     */
    public RoutePolicyFactory outageBreakers(dev.agentcoordinator.infra.KnownDatabaseOutage outage) {
        return DatabaseOutageBreaker.everyConsumer(java.util.Map.of(ReplyRoutes.ROUTE_ID, replyBacklog,
                dev.agentcoordinator.messages.MessageRoutes.RESPONSES_ROUTE_ID, responseBacklog), outage);
    }
}
