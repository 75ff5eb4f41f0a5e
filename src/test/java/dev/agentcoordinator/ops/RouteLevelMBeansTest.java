package dev.agentcoordinator.ops;

import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.ManagementMBeansLevel;
import org.junit.jupiter.api.Test;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RouteLevelMBeansTest {

    @Test
    void routesAndEndpointsGetMBeansButProducersDoNotAtTheRoutesOnlyLevel() throws Exception {
        String name = "route-level-" + UUID.randomUUID();
        try (DefaultCamelContext context = contextWith(name, ManagementMBeansLevel.RoutesOnly)) {
            assertEquals(1, count(name, "routes"));
            assertEquals(2, count(name, "endpoints"), "direct:in and log:out");
            assertEquals(0, count(name, "producers"));
        }
    }

    @Test
    void producersKeepTheirMBeansWhenEveryNodeHasOne() throws Exception {
        String name = "every-node-" + UUID.randomUUID();
        try (DefaultCamelContext context = contextWith(name, ManagementMBeansLevel.Default)) {
            assertEquals(1, count(name, "producers"));
        }
    }

    private static DefaultCamelContext contextWith(String name, ManagementMBeansLevel level) throws Exception {
        DefaultCamelContext context = new DefaultCamelContext(false);
        context.getCamelContextExtension().setName(name);
        context.build();
        // where camel.main.jmxManagementMBeansLevel goes
        context.getManagementStrategy().getManagementAgent().setMBeansLevel(level);
        RouteLevelMBeans.apply(context);
        context.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").routeId("only").to("log:out");
            }
        });
        context.start();
        return context;
    }

    private static int count(String context, String type) throws MalformedObjectNameException {
        return ManagementFactory.getPlatformMBeanServer()
                .queryNames(new ObjectName("org.apache.camel:context=" + context + ",type=" + type + ",*"), null)
                .size();
    }
}
