package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class QueuedRequestsTest {

    @Test
    void theFilterMatchesEachRequestsCorrelationIdWithOrWithoutItsSuffix() {
        assertThat(QueuedRequests.filter(List.of("r1:2", "r'3:1")))
                .isEqualTo("JMSCorrelationID = 'r1:2' OR JMSCorrelationID LIKE 'r1:2@%'"
                        + " OR JMSCorrelationID = 'r''3:1' OR JMSCorrelationID LIKE 'r''3:1@%'");
    }
}
