package dev.agentcoordinator.definition;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StepGraphTest {

    private static WorkflowStep step(String id, String... dependsOn) {
        return new WorkflowStep(id, "x", "y", null, Arrays.asList(dependsOn), null, null, null, null, null, null);
    }

    private static StepGraph graph(WorkflowStep... steps) {
        return new StepGraph(new WorkflowDefinition("wf", "n", "T", 1, List.of(steps), null, null, null));
    }

    @Test
    void ancestorsAreTransitive() {
        StepGraph g = graph(step("a"), step("b", "a"), step("c", "b"), step("d"));
        assertThat(g.ancestorsOf("c")).containsExactlyInAnyOrder("a", "b");
        assertThat(g.isAncestor("a", "c")).isTrue();
        assertThat(g.isAncestor("d", "c")).isFalse();
        assertThat(g.isAncestor("c", "a")).isFalse();
    }

    @Test
    void eachCycleIsReportedOnce() {
        StepGraph g = graph(step("a", "b"), step("b", "a"), step("c", "c"), step("d", "a"));
        assertThat(g.cycles()).containsExactly(List.of("a", "b", "a"), List.of("c", "c"));
    }

    /** The walk for cycles overflowed the thread's stack on a chain of some thousands of steps listed last step first. */
    @Test
    void aChainOrACycleOfTwentyThousandStepsIsWalkedWithoutRecursion() {
        int length = 20_000;
        WorkflowStep[] chain = new WorkflowStep[length];
        for (int i = 0; i < length; i++) {   // s19999 depends on s19998 ... s1 on s0, listed last first
            chain[length - 1 - i] = i == 0 ? step("s0") : step("s" + i, "s" + (i - 1));
        }
        assertThat(graph(chain).cycles()).isEmpty();

        chain[length - 1] = step("s0", "s" + (length - 1));   // s0 depends on the last: one cycle through all of them
        List<List<String>> cycles = graph(chain).cycles();
        assertThat(cycles).hasSize(1);
        assertThat(cycles.get(0)).hasSize(length + 1);
        assertThat(cycles.get(0).get(0)).isEqualTo(cycles.get(0).get(length));
    }

    @Test
    void unknownDependenciesAreIgnored() {
        StepGraph g = graph(step("a", "ghost"));
        assertThat(g.ancestorsOf("a")).isEmpty();
        assertThat(g.cycles()).isEmpty();
    }

    @Test
    void topologicalOrderPutsDependenciesFirst() {
        StepGraph g = graph(step("join", "left", "right"), step("left", "root"), step("right", "root"), step("root"));
        assertThat(g.topologicalOrder()).containsExactly("root", "left", "right", "join");
        assertThatThrownBy(() -> graph(step("a", "a")).topologicalOrder()).isInstanceOf(IllegalStateException.class);
    }
}
