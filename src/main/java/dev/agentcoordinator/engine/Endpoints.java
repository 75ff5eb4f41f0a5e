package dev.agentcoordinator.engine;

/**
 * Names of the engine's internal endpoints and route ids. A workflow's routes all start with
 * {@code wf.<workflow>}, so Hawtio lists them together and each step reads as its own route.
 */
public final class Endpoints {
    public static final String PUBLISH_OUTCOME = "direct:coordinator.publish-outcome";
    /** An execution left 'running': publish its outcome, or compensate it first. */
    public static final String AFTER_SETTLED = "direct:coordinator.after-settled";
    public static final String EVENTS_QUEUE = "agent.events";
    /** Logger of the progress lines (one per execution and step transition). */
    public static final String PROGRESS_LOG = "dev.agentcoordinator.progress";
    public static final String DEAD_LETTER_QUEUE = "agent.events.DLQ";

    private Endpoints() {
    }

    /**
     * A timer for a supervisor sweep. Every sweep shares one timer thread (same timer name); the
     * slot only keeps their endpoints apart and staggers their first run.
     */
    public static String sweep(long periodMs, int slot) {
        return "timer:coordinator-sweeps?delay=" + (periodMs + slot) + "&period=" + periodMs;
    }

    /** Rows one run of a sweep takes at most (header {@link Headers#SWEEP_LIMIT}); the rest wait for the next run. */
    public static final int SWEEP_ROWS = 200;

    public static String routeId(String workflowId, String part) {
        return "wf." + workflowId + "." + part;
    }

    /** Whether {@code routeId} is one of the routes of the workflow (or retained version) {@code routeKey}. */
    public static boolean isRouteOf(String routeId, String routeKey) {
        String prefix = "wf." + routeKey;
        if (!routeId.startsWith(prefix) || routeId.length() == prefix.length()) {
            return false;
        }
        String rest = routeId.substring(prefix.length());
        // wf.<id>~start and the like are the workflow's; wf.<id>~v2.* are another version's (WorkflowCatalog.asRetained)
        return rest.startsWith(".") || rest.startsWith("~") && !VERSION_ROUTES.matcher(rest).lookingAt();
    }

    private static final java.util.regex.Pattern VERSION_ROUTES = java.util.regex.Pattern.compile("~v[0-9]+[.~]");

    /**
     * Workflow-level routes end in {@code ~start} / {@code ~finish}: a step id cannot contain '~',
     * so no step (not even one named "start") can collide with them.
     */
    public static String startRouteId(String workflowId) {
        return "wf." + workflowId + "~start";
    }

    public static String finishRouteId(String workflowId) {
        return "wf." + workflowId + "~finish";
    }

    public static String compensate(String workflowId) {
        return "direct:wf." + workflowId + "~compensate";
    }

    public static String compensationResult(String workflowId) {
        return "direct:wf." + workflowId + "~compensation-result";
    }

    public static String start(String workflowId) {
        return "direct:" + startRouteId(workflowId);
    }

    /** The step's own route: decide, then skip or dispatch. */
    public static String step(String workflowId, String stepId) {
        return "direct:" + routeId(workflowId, stepId);
    }

    public static String result(String workflowId, String stepId) {
        return "direct:" + routeId(workflowId, stepId + ".result");
    }

    public static String done(String workflowId, String stepId) {
        return "direct:" + routeId(workflowId, stepId + ".done");
    }

    /** A loop step's: a redelivered reply re-sends the next iteration it started (see LoopStepMapper). */
    public static String iterationResend(String workflowId, String stepId) {
        return "direct:" + routeId(workflowId, stepId + ".iteration-resend");
    }

    public static String join(String workflowId, String stepId) {
        return "direct:" + routeId(workflowId, stepId + ".join");
    }

    public static String finish(String workflowId) {
        return "direct:" + finishRouteId(workflowId);
    }

    public static String agentQueue(String agent) {
        return "agent." + agent;
    }
}
