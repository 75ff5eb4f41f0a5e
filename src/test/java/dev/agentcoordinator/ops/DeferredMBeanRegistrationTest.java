package dev.agentcoordinator.ops;

import org.apache.camel.CamelContext;
import org.apache.camel.ManagementMBeansLevel;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.main.Main;
import org.junit.jupiter.api.Test;

import javax.management.MalformedObjectNameException;
import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.UUID;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Camel Main as the coordinator runs it: the agent installed by a listener, camel.main.jmx* settings applied to it. */
class DeferredMBeanRegistrationTest {

    @Test
    void mbeansWaitUntilReleasedAndThenAppearWithCamelMainsSettings() throws Exception {
        String name = "deferred-" + UUID.randomUUID();
        Main main = mainWithOneRoute(name);
        try {
            main.start();
            CamelContext context = main.getCamelContext();
            assertInstanceOf(DeferredMBeanRegistration.class, context.getManagementStrategy().getManagementAgent());
            assertEquals(ManagementMBeansLevel.RoutesOnly, context.getManagementStrategy().getManagementAgent().getMBeansLevel(),
                    "camel.main.jmxManagementMBeansLevel reached the installed agent");
            assertEquals(0, count(name, "*"), "nothing registered before release");
            ObjectName routeName = context.getManagementStrategy().getManagementObjectNameStrategy()
                    .getObjectNameForRoute(context.getRoute("only"));
            assertTrue(context.getManagementStrategy().isManagedName(routeName),
                    "a waiting MBean counts as registered, so Camel does not register it twice");

            DeferredMBeanRegistration.release(context);
            await().atMost(Duration.ofSeconds(10)).until(() -> count(name, "context") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> named(name, "routes", "only") == 1);
            await().atMost(Duration.ofSeconds(10)).until(() -> named(name, "endpoints", "log://out") == 1);
            assertEquals(0, count(name, "processors"), "RoutesOnly");

            // registered at once from now on
            context.addRoutes(new RouteBuilder() {
                @Override
                public void configure() {
                    from("direct:later").routeId("later").to("log:later");
                }
            });
            assertEquals(1, named(name, "routes", "later"));
        } finally {
            main.stop();
        }
        assertEquals(0, count(name, "*"), "stop unregisters what was registered");
    }

    @Test
    void stoppingBeforeReleaseLeavesNothingRegistered() throws Exception {
        String name = "never-released-" + UUID.randomUUID();
        Main main = mainWithOneRoute(name);
        main.start();
        main.getCamelContext().getRouteController().stopRoute("only");   // stopped and removed while its MBean waits
        main.getCamelContext().removeRoute("only");
        main.stop();
        assertEquals(0, count(name, "*"));
    }

    @Test
    void aSecondContextOfTheSameNameSeesTheFirstOnesWaitingNamesAsTaken() throws Exception {
        String name = "twin-" + UUID.randomUUID();
        Main first = mainWithOneRoute(name);
        Main second = mainWithOneRoute(name);
        try {
            first.start();
            second.start();
            DeferredMBeanRegistration.release(first.getCamelContext());
            DeferredMBeanRegistration.release(second.getCamelContext());
            await().atMost(Duration.ofSeconds(10)).until(() -> ManagementFactory.getPlatformMBeanServer()
                    .queryNames(new ObjectName("org.apache.camel:context=" + name + "*,type=routes,name=\"only\""), null).size() == 2);
        } finally {
            second.stop();
            first.stop();
        }
    }

    private static Main mainWithOneRoute(String name) {
        Main main = new Main();
        main.addOverrideProperty("camel.main.name", name);
        main.addOverrideProperty("camel.main.jmxManagementMBeansLevel", "RoutesOnly");
        // application.properties turns the HTTP servers on, by default on port 8080, which may be taken
        main.addOverrideProperty("camel.server.port", "0");
        main.addOverrideProperty("camel.management.port", "0");
        main.addMainListener(DeferredMBeanRegistration.installer());
        main.configure().addRoutesBuilder(new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:in").routeId("only").to("log:out");
            }
        });
        return main;
    }

    private static int named(String context, String type, String name) throws MalformedObjectNameException {
        return ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName("org.apache.camel:context=" + context
                + ",type=" + type + ",name=" + ObjectName.quote(name)), null).size();
    }

    private static int count(String context, String type) throws MalformedObjectNameException {
        String pattern = "org.apache.camel:context=" + context + ("*".equals(type) ? "" : ",type=" + type) + ",*";
        return ManagementFactory.getPlatformMBeanServer().queryNames(new ObjectName(pattern), null).size();
    }
}
