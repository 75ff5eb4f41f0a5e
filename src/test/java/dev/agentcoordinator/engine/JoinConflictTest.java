package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What a fan-in's join reads as a conflict of two arrivals (then read again), and what as a failure. */
class JoinConflictTest {

    @Test
    void aDuplicateKeyIsAConflictAndAConnectionClosedUnderARestartIsNot() {
        assertThat(JoinRepository.isOptimisticLocking(new RuntimeException("insert", new SQLException("duplicate key", "23505")))).isTrue();
        // a connection the pool closed has no SQL state: camel-sql's own mapper failed on it with a NullPointerException
        RuntimeException closed = new RuntimeException("insert", new SQLException("Connection is closed"));
        assertThat(JoinRepository.isOptimisticLocking(closed)).isFalse();
        assertThatThrownBy(() -> new org.apache.camel.processor.aggregate.jdbc.DefaultJdbcOptimisticLockingExceptionMapper()
                .isOptimisticLocking(closed)).isInstanceOf(NullPointerException.class);
    }
}
