package dev.agentcoordinator.locks;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Priority of each agent when agents compete for a resource (spec: AGENT_PRIORITIES). A higher
 * priority holder preempts a lower one; an agent not listed has priority 0.
 */
public final class LockPriorities {
    /** The spec's AGENT_PRIORITIES, as setting {@code coordinator.locks.priorities} writes them. */
    public static final String SPEC_DEFAULT = "strategist:5,architect:4,sentinel:3,interviewer:2,action:1";
    public static final int UNLISTED = 0;

    private final Map<String, Integer> byAgent;

    private LockPriorities(Map<String, Integer> byAgent) {
        this.byAgent = Collections.unmodifiableMap(byAgent);
    }

    /**
     * Parses {@code agent:priority} pairs separated by commas, e.g. {@code strategist:5,architect:4}.
     *
     * @throws IllegalArgumentException naming the pair that is not {@code agent:integer}
     */
    public static LockPriorities parse(String text) {
        Map<String, Integer> parsed = new LinkedHashMap<>();
        if (text != null) {
            for (String pair : text.split(",")) {
                if (pair.isBlank()) {
                    continue;
                }
                int colon = pair.indexOf(':');
                String agent = colon < 0 ? "" : pair.substring(0, colon).trim();
                try {
                    if (agent.isEmpty()) {
                        throw new NumberFormatException();
                    }
                    parsed.put(agent, Integer.parseInt(pair.substring(colon + 1).trim()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("coordinator.locks.priorities: \"" + pair.trim()
                            + "\" is not agent:priority (e.g. architect:4)");
                }
            }
        }
        return new LockPriorities(parsed);
    }

    public static LockPriorities specDefault() {
        return parse(SPEC_DEFAULT);
    }

    public int of(String agent) {
        return byAgent.getOrDefault(agent, UNLISTED);
    }

    public Map<String, Integer> asMap() {
        return byAgent;
    }
}
