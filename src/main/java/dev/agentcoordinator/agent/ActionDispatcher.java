package dev.agentcoordinator.agent;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/** Routes a request to the handler of its action and turns every outcome into a reply. */
final class ActionDispatcher {

    private static final Logger LOG = LoggerFactory.getLogger(ActionDispatcher.class);

    private final String agentName;
    private final Map<String, ActionHandler> handlers;

    ActionDispatcher(String agentName, Map<String, ActionHandler> handlers) {
        this.agentName = agentName;
        this.handlers = Map.copyOf(handlers);
    }

    AgentReply dispatch(AgentRequest request) {
        ActionHandler handler = handlers.get(request.action());
        if (handler == null) {
            return AgentReply.error("agent " + agentName + " has no handler for action " + request.action()
                    + " (known: " + String.join(", ", handlers.keySet().stream().sorted().toList()) + ")", false);
        }
        try {
            AgentReply reply = handler.handle(request);
            return reply != null ? reply
                    : AgentReply.error("handler of " + agentName + "." + request.action() + " returned no reply", false);
        } catch (NonRetryableAgentException e) {
            LOG.info("{}.{} failed for step {} of execution {} (not retryable): {}",
                    agentName, request.action(), request.stepId(), request.executionId(), e.getMessage());
            return AgentReply.error(describe(e), false);
        } catch (InterruptedException e) {
            // told to stop by the coordinator (Heartbeats) or shutting down: not a failure of the handler
            Thread.currentThread().interrupt();
            LOG.info("{}.{} interrupted for step {} of execution {}", agentName, request.action(), request.stepId(), request.executionId());
            return AgentReply.error("handler of " + agentName + "." + request.action() + " was interrupted", true);
        } catch (Exception | Error e) {
            // an Error too (an AssertionError, a class that failed to load, a stack overflow on one input): rolled
            // back instead, the request would run again up to the broker's delivery limit and never be answered
            rethrowIfFatal(e);
            LOG.warn("{}.{} failed for step {} of execution {} (retryable)",
                    agentName, request.action(), request.stepId(), request.executionId(), e);
            return AgentReply.error(describe(e), true);
        }
    }

    /** Errors the JVM may not survive (out of memory, an internal error) are not answered: the request is rolled back. */
    static void rethrowIfFatal(Throwable e) {
        if (e instanceof VirtualMachineError fatal && !(e instanceof StackOverflowError)) {
            throw fatal;
        }
    }

    static String describe(Throwable e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
