package dev.agentcoordinator.engine;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A locked start whose statement failed because the database went away: the pool evicted the connection, so its
 * rollback answers "Connection is closed" (no SQL state). That must not hide the failure that says the database is
 * unreachable, or the route logs an ERROR instead of pausing (a chaos run restarting PostgreSQL, 2026-12-06).
 */
class LockedStepStartFailureTest {

    @Test
    void aRollbackOnAnEvictedConnectionIsKeptBesideTheFailureNotInItsPlace() {
        Connection evicted = (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    throw new SQLException("Connection is closed");
                });
        SQLException lost = new SQLException("FATAL: terminating connection due to administrator command", "57P01");

        LockedStepStart.rollbackKeeping(evicted, lost);

        assertThat(lost.getSuppressed()).singleElement().satisfies(e -> assertThat(e).hasMessage("Connection is closed"));
        assertThat(DatabaseUnreachable.causes(lost)).isTrue();
        assertThat(DatabaseUnreachable.causes(new SQLException("Connection is closed"))).isFalse();
    }
}
