package dev.agentcoordinator.definition;

import java.util.Set;

/** Agent names become queue names ({@code agent.<agent>}); some of those queues are the coordinator's own. */
public final class AgentNames {
    /** agent.events takes events, agent.messages agent-to-agent messages: no agent may be named so. */
    public static final Set<String> RESERVED = Set.of("events", "messages");

    private AgentNames() {
    }
}
