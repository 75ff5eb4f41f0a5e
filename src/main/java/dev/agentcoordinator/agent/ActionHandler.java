package dev.agentcoordinator.agent;

/**
 * Performs one action of an agent. Whatever it throws becomes an error reply: retryable, unless
 * it is a {@link NonRetryableAgentException}.
 */
@FunctionalInterface
public interface ActionHandler {

    AgentReply handle(AgentRequest request) throws Exception;
}
