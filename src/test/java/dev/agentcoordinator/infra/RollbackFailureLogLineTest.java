package dev.agentcoordinator.infra;

import dev.agentcoordinator.engine.CapturedLog;
import org.apache.camel.component.jms.DefaultJmsMessageListenerContainer;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A consumer's transaction that cannot roll back because the broker was lost under it: Spring's listener container
 * (its logger the class of the container, Camel's) logged "Application exception overridden by rollback error" as an
 * ERROR with the route's failure's stack trace, which the route had told already (an outage's one WARN line), then its
 * own WARN about the rollback ("Setup of JMS message listener invoker failed … trying to recover"). The shipped log
 * configuration (log4j2.xml, which the tests run with) leaves the ERROR out, and keeps the WARN.
 */
class RollbackFailureLogLineTest {

    @Test
    void aRollbackLostWithTheBrokerLogsNoErrorLineOfItsOwn() {
        // as Spring logs them (AbstractMessageListenerContainer.rollbackOnExceptionIfNecessary, handleListenerSetupFailure)
        Log container = LogFactory.getLog(DefaultJmsMessageListenerContainer.class);
        try (CapturedLog log = CapturedLog.ofRoot()) {
            container.error("Application exception overridden by rollback error",
                    new IllegalStateException("route coordinator.replies failed"));
            container.warn("Setup of JMS message listener invoker failed for destination 'coordinator.replies' - trying to"
                    + " recover. Cause: AMQ219010: Connection is destroyed");
            assertThat(log.lines()).noneMatch(line -> line.contains("overridden by rollback"))
                    .anyMatch(line -> line.startsWith("WARN Setup of JMS message listener invoker failed"));
        }
    }
}
