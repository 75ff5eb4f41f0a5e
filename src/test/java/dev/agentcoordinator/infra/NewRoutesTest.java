package dev.agentcoordinator.infra;

import org.apache.camel.CamelContext;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.model.Model;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Routes added as CamelContext.addRoutes adds them, without its costs that grow with the routes already there. */
class NewRoutesTest {
    private CamelContext context;

    @BeforeEach
    void start() {
        context = new DefaultCamelContext();
        context.start();
    }

    @AfterEach
    void stop() {
        context.stop();
    }

    private static RouteBuilder routes(Consumer<RouteBuilder> configure) {
        return new RouteBuilder() {
            @Override
            public void configure() {
                configure.accept(this);
            }
        };
    }

    private int definitions() {
        return context.getCamelContextExtension().getContextPlugin(Model.class).getRouteDefinitions().size();
    }

    @Test
    void newRoutesRunAndARouteAddedAgainReplacesItsNamesake() throws Exception {
        NewRoutes.add(context, routes(b -> {
            b.from("direct:a").routeId("a").setBody(b.constant("first"));
            b.from("direct:b").routeId("b").setBody(b.constant("b"));
        }));
        assertThat(context.createProducerTemplate().requestBody("direct:a", "", String.class)).isEqualTo("first");

        NewRoutes.add(context, routes(b -> b.from("direct:a").routeId("a").setBody(b.constant("second"))));
        assertThat(context.createProducerTemplate().requestBody("direct:a", "", String.class)).isEqualTo("second");
        assertThat(context.getRoutes()).hasSize(2);
        assertThat(definitions()).isEqualTo(2);
    }

    @Test
    void aBatchWithANodeIdTwiceIsRefusedWhole() {
        assertThatThrownBy(() -> NewRoutes.add(context, routes(b -> {
            b.from("direct:c").routeId("c").setBody(b.constant("c")).id("same");
            b.from("direct:d").routeId("d").setBody(b.constant("d")).id("same");
        }))).hasMessageContaining("Duplicate id detected: same");
        assertThat(context.getRoutes()).isEmpty();
        assertThat(definitions()).isZero();
    }

    @Test
    void aRouteThatCannotStartTakesItsBatchWithIt() {
        assertThatThrownBy(() -> NewRoutes.add(context, routes(b -> {
            b.from("direct:e").routeId("e").setBody(b.constant("e"));
            b.from("no-such-component:x").routeId("f").setBody(b.constant("f"));
        })));
        assertThat(context.getRoutes()).isEmpty();
        assertThat(definitions()).isZero();
    }
}
