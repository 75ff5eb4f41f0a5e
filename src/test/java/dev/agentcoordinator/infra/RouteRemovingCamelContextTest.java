package dev.agentcoordinator.infra;

import org.apache.camel.Endpoint;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.Model;
import org.apache.camel.model.RouteDefinition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Routes removed in bulk leave the context as removing them one by one with Camel's removeRoute would. */
class RouteRemovingCamelContextTest {
    private RouteRemovingCamelContext context;

    @BeforeEach
    void start() throws Exception {
        context = new RouteRemovingCamelContext(true);
        context.start();
        NewRoutes.add(context, new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:a").routeId("a").to("direct:shared").to("seda:only-a");
                from("direct:b").routeId("b").to("direct:shared");
                from("direct:c").routeId("c").to("seda:only-c").to("seda:only-a-and-c");
                from("direct:d").routeId("d").to("seda:only-a-and-c-and-d");
                from("direct:shared").routeId("shared").setBody(constant("shared"));
            }
        });
        context.getEndpoint("seda:only-a-and-c-and-d");
        NewRoutes.add(context, new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:a2").routeId("a2").to("seda:only-a-and-c").to("seda:only-a-and-c-and-d");
            }
        });
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    private List<String> routeIds() {
        return context.getRoutes().stream().map(org.apache.camel.Route::getRouteId).sorted().toList();
    }

    private List<String> definitionIds() {
        return context.getCamelContextExtension().getContextPlugin(Model.class).getRouteDefinitions().stream()
                .map(RouteDefinition::getId).sorted().toList();
    }

    private boolean hasEndpoint(String uri) {
        return context.getEndpoints().stream().map(Endpoint::getEndpointUri).anyMatch(uri::equals);
    }

    @Test
    void theRoutesTheirDefinitionsAndTheEndpointsOnlyTheyUsedGo() throws Exception {
        List<String> removed = context.removeRoutes(List.of("a", "c", "a2", "no-such-route"), 5, TimeUnit.SECONDS);

        assertThat(removed).containsExactly("a", "c", "a2");
        assertThat(routeIds()).containsExactly("b", "d", "shared");
        assertThat(definitionIds()).containsExactly("b", "d", "shared");
        assertThat(context.getCamelContextExtension().getRouteStartupOrder())
                .extracting(order -> order.getRoute().getRouteId()).containsExactlyInAnyOrder("b", "d", "shared");
        // used by removed routes only, among them by several
        assertThat(hasEndpoint("direct://a")).isFalse();
        assertThat(hasEndpoint("seda://only-a")).isFalse();
        assertThat(hasEndpoint("seda://only-c")).isFalse();
        assertThat(hasEndpoint("seda://only-a-and-c")).isFalse();
        // still used by a route that stays
        assertThat(hasEndpoint("direct://shared")).isTrue();
        assertThat(hasEndpoint("seda://only-a-and-c-and-d")).isTrue();
        assertThat(context.createProducerTemplate().requestBody("direct:b", "x", String.class)).isEqualTo("shared");
    }

    @Test
    void removedRoutesCanBeAddedAgain() throws Exception {
        context.removeRoutes(List.of("a"), 5, TimeUnit.SECONDS);

        NewRoutes.add(context, new RouteBuilder() {
            @Override
            public void configure() {
                from("direct:a").routeId("a").to("direct:shared");
            }
        });

        assertThat(definitionIds()).containsExactly("a", "a2", "b", "c", "d", "shared");
        assertThat(context.createProducerTemplate().requestBody("direct:a", "x", String.class)).isEqualTo("shared");
    }
}
