package dev.agentcoordinator.definition;

/** A parsed workflow definition and the name of the file it came from (used in error messages). */
public record LoadedDefinition(String file, WorkflowDefinition definition) {
}
