package dev.agentcoordinator.agent;

/**
 * Answers messages of one type from other agents. What it returns (a Map, a record, a JsonNode,
 * or null for an empty object) is the response payload when the sender asked for a response;
 * what it throws becomes an error response.
 */
@FunctionalInterface
public interface MessageHandler {

    Object handle(AgentMessage message) throws Exception;
}
