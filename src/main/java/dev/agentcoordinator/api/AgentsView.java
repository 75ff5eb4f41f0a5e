package dev.agentcoordinator.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.agentcoordinator.definition.WorkflowDefinition;
import dev.agentcoordinator.definition.WorkflowStep;
import dev.agentcoordinator.engine.Endpoints;
import dev.agentcoordinator.engine.Json;
import dev.agentcoordinator.ops.QueueDepths;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code GET /api/agents}: every agent the loaded workflows name (as a step's agent or a compensation's), and any
 * other with attempts in flight (a workflow removed by a reload), with what waits for it: the attempts sent and not
 * answered, the requests on its queue and the consumers that listen there. An agent whose requests wait while no
 * consumer listens is {@code unattended}: it is stopped, or the workflows spell its name otherwise than it does.
 */
final class AgentsView {
    private AgentsView() {
    }

    /**
     * @param running attempts in flight by agent
     * @param queues  the broker's counts by queue; {@code null} when the broker did not give them ({@code queuesProblem} says why)
     */
    static ObjectNode of(Collection<WorkflowDefinition> workflows, Map<String, Long> running,
                         Map<String, QueueDepths.Counts> queues, String queuesProblem) {
        Map<String, Set<String>> workflowsByAgent = new TreeMap<>();
        for (WorkflowDefinition workflow : workflows) {
            for (WorkflowStep step : workflow.steps()) {
                step.agents().forEach(agent -> workflowsByAgent.computeIfAbsent(agent, named -> new TreeSet<>()).add(workflow.id()));
            }
        }
        running.keySet().forEach(agent -> workflowsByAgent.computeIfAbsent(agent, unnamed -> new TreeSet<>()));

        ObjectNode view = Json.object();
        ArrayNode agents = view.putArray("agents");
        workflowsByAgent.forEach((agent, named) -> {
            String queue = Endpoints.agentQueue(agent);
            ObjectNode entry = agents.addObject().put("agent", agent).put("queue", queue);
            named.forEach(entry.putArray("workflows")::add);
            entry.put("attempts_running", running.getOrDefault(agent, 0L));
            QueueDepths.Counts counts = queues == null ? null : queues.get(queue);
            if (counts == null) {   // unknown, or no such queue yet: nothing was ever sent to it, and nobody listened
                entry.putNull("requests_waiting").putNull("consumers").putNull("unattended");
            } else {
                entry.put("requests_waiting", counts.messages()).put("consumers", counts.consumers())
                        .put("unattended", counts.messages() > 0 && counts.consumers() == 0);
            }
        });
        if (queuesProblem != null) {
            view.put("warning", "requests_waiting and consumers are unknown: " + queuesProblem);
        }
        return view;
    }
}
