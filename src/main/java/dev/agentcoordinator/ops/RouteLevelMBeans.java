package dev.agentcoordinator.ops;

import org.apache.camel.CamelContext;
import org.apache.camel.Producer;
import org.apache.camel.management.DefaultManagementObjectStrategy;

/**
 * No MBean per producer unless processors get MBeans too ({@code camel.main.jmxManagementMBeansLevel=Default}).
 * At the shipped RoutesOnly level Camel still registered one for each of the 470 {@code to(...)}
 * sends of the shipped workflows: half of the 912 MBeans made at start-up, each assembled by
 * reflection (BENCHMARKS.md, session 17). A producer's MBean holds its endpoint URI and state, which
 * the route's and the endpoint's MBeans show as well; Hawtio lists routes and endpoints, not producers.
 */
public final class RouteLevelMBeans extends DefaultManagementObjectStrategy {

    /** Sets this strategy on {@code context}, before its routes start. */
    public static void apply(CamelContext context) {
        context.getManagementStrategy().setManagementObjectStrategy(new RouteLevelMBeans());
    }

    @Override
    public Object getManagedObjectForProducer(CamelContext context, Producer producer) {
        boolean everyNode = context.getManagementStrategy().getManagementAgent().getMBeansLevel().isProcessors();
        return everyNode ? super.getManagedObjectForProducer(context, producer) : null;
    }
}
