package dev.agentcoordinator.ops;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import javax.sql.DataSource;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** The backlog gauges against the operations test coordinator's database and broker, with outages of both. */
class BacklogGaugesTest {

    @Test
    void gaugesThatCannotBeRefreshedAreLeftOutNotFrozenAndComeBack() throws Exception {
        AtomicBoolean databaseDown = new AtomicBoolean();
        DataSource real = OpsCoordinator.shared().dataSource();
        DataSource flaky = (DataSource) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    if (databaseDown.get() && method.getName().equals("getConnection")) {
                        throw new SQLException("Connection refused (a test outage)", "08001");
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        QueueDepths depths = new QueueDepths(OpsCoordinator.shared().connectionFactory(), List.of("agent.events"), 5_000);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (BacklogGauges gauges = new BacklogGauges(registry, flaky, List.of("interview_completed"), List.of("interviewer"), depths)) {
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").tag("workflow", "interview_completed").gauge()).isNotNull();
            assertThat(registry.find("coordinator_steps_waiting").tag("agent", "interviewer").gauge()).isNotNull();

            databaseDown.set(true);
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").gauges()).as("left out, not frozen at the last value").isEmpty();
            assertThat(registry.find("coordinator_steps_waiting").gauges()).isEmpty();

            databaseDown.set(false);
            gauges.refresh();
            assertThat(registry.find("coordinator_executions_in_flight").tag("workflow", "interview_completed").gauge()).isNotNull();
        }
    }
}
