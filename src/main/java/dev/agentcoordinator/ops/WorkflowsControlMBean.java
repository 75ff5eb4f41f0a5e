package dev.agentcoordinator.ops;

/** The workflows in Hawtio's JMX tree ({@code dev.agentcoordinator:type=workflows}): what is loaded, and a reload. */
public interface WorkflowsControlMBean {
    /** The loaded workflows, each as {@code <id> version <n> <- <trigger>}. */
    String[] getLoadedWorkflows();

    /** Loads the workflow folder again, as {@code POST /api/workflows/reload}: what changed, or every problem. */
    String reload();
}
