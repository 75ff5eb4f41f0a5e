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
        for (String key : KEYS) {
            String value = exchange.getMessage().getHeader(key, String.class);
            if (value != null) {
                MDC.put(key, value);
            }
        }
        return message;
    }

    @Override
    public void afterLog(Exchange exchange, CamelLogger logger, String message) {
        for (String key : KEYS) {
            MDC.remove(key);
        }
    }
}
