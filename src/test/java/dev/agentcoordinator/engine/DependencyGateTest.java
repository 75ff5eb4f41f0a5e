package dev.agentcoordinator.engine;

import dev.agentcoordinator.definition.DefinitionReader;
import dev.agentcoordinator.definition.WorkflowCatalog;
import dev.agentcoordinator.definition.WorkflowDefinition;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fan-in's dependencies are those of the version its execution runs on, whatever route key the join
 * carries: a join stored by another coordinator (a rolling deployment) carries that coordinator's key.
 */
class DependencyGateTest {
    private static final WorkflowDefinition V2 = read("""
            id: fan
            name: fan
            trigger: FAN
            version: 2
            steps:
              - { id: a, agent: x, action: a }
              - { id: b, agent: x, action: b }
              - { id: c, agent: x, action: c, depends_on: [a, b] }
            """);
    private static final WorkflowDefinition V1 = read("""
            id: fan
            name: fan
            trigger: FAN
            version: 1
            steps:
              - { id: a, agent: x, action: a }
              - { id: b, agent: x, action: b }
              - { id: d, agent: x, action: d }
              - { id: c, agent: x, action: c, depends_on: [a, b, d] }
            """);

    private static WorkflowDefinition read(String yaml) {
        try {
            return new DefinitionReader().read("fan.yaml", yaml).definition();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private final WorkflowCatalog catalog = catalog();
    private final DependencyGate gate = new DependencyGate(null, catalog);

    private static WorkflowCatalog catalog() {
        WorkflowCatalog catalog = new WorkflowCatalog(List.of(V2));
        catalog.retain(WorkflowCatalog.asRetained(V1));
        return catalog;
    }

    /** A join of a version-1 execution whose key "fan" was given by a coordinator that loaded version 1. */
    private static Exchange arrival(int version) {
        Exchange exchange = new DefaultExchange(new DefaultCamelContext());
        exchange.getMessage().setHeader(Headers.WORKFLOW_ID, "fan");
        exchange.getMessage().setHeader(Headers.WORKFLOW_VERSION, version);
        exchange.getMessage().setHeader(Headers.ROUTE_KEY, "fan");
        exchange.getMessage().setHeader(FanInRoutes.JOIN_STEP, "c");
        exchange.setProperty(Headers.CONTEXT_ROWS, List.of(
                row("a", "completed"), row("b", "completed"), row("d", "running"), row("c", "pending")));
        return exchange;
    }

    private static Map<String, Object> row(String step, String status) {
        return Map.of("execution_status", "running", "trigger_payload", "{}", "row_id", "row-" + step,
                "step_id", step, "status", status, "iteration", 0);
    }

    @Test
    void theJoinWaitsForEveryDependencyOfItsExecutionsVersion() {
        // version 2, which the key names on this coordinator, would find a and b enough
        assertThat(gate.settledInCarriedContext(arrival(1))).isFalse();
        assertThat(gate.settledInCarriedContext(arrival(2))).isTrue();
    }

    @Test
    void aJoinOfAVersionThisCoordinatorCannotFindIsNeverComplete() {
        assertThat(gate.settledInCarriedContext(arrival(7))).isFalse();
        assertThat(gate.matches(arrival(7))).isFalse();
    }
}
