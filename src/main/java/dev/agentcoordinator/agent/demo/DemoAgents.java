package dev.agentcoordinator.agent.demo;

import jakarta.jms.ConnectionFactory;

/** Placeholder: the demo agent services (another engineer replaces this body). */
public final class DemoAgents {

    private DemoAgents() {
    }

    public static AutoCloseable start(ConnectionFactory connectionFactory) {
        return () -> { };
    }
}
