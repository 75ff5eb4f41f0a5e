package dev.agentcoordinator.ops;

import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelLogger;
import org.apache.camel.spi.LogListener;
import org.slf4j.MDC;

/**
 * Puts the execution, step and workflow of the exchange into the logging MDC around each line of
 * the Log EIP (the progress lines), so that the JSON layout carries them as fields. Only around
 * those lines: an MDC service that sets them around every processor cost about a tenth of the
 * coordinator's CPU per step (BENCHMARKS.md).
 */
public final class ProgressMdc implements LogListener {

    static final String[] KEYS = {"executionId", "stepId", "workflowId"};

    @Override
    public String onLog(Exchange exchange, CamelLogger logger, String message) {
        // a line about the whole execution ("execution … completed", "… failed", "… cancelled") names no step: the
        // exchange that ends an execution still carries the step whose settling ended it
        boolean aboutTheExecution = message != null && message.startsWith(EXECUTION_LINE);
        for (String key : KEYS) {
            String value = exchange.getMessage().getHeader(key, String.class);
            if (value != null && !(aboutTheExecution && key.equals(STEP_ID))) {
                MDC.put(key, value);
            }
        }
        return message;
    }

    private static final String STEP_ID = "stepId";
    private static final String EXECUTION_LINE = "execution ";

    @Override
    public void afterLog(Exchange exchange, CamelLogger logger, String message) {
        for (String key : KEYS) {
            MDC.remove(key);
        }
    }
}
